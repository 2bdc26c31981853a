#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into tests/fuzz/corpus/TARGET/ (committed; rerun
after changing it). Seeds are small valid inputs: afl-fuzz and the property tests mutate them."""
import hashlib, io, json, os, tarfile, gzip

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

def write(target, name, data):
    os.makedirs(os.path.join(root, target), exist_ok=True)
    with open(os.path.join(root, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

def fields(args, env):
    return "\0".join(list(args) + [""] + [f"{k}={v}" for k, v in env])

# options: argv fields, an empty field, then NAME=VALUE fields
write("options", "plain", fields(["python3", "train.py"], []))
write("options", "all-options", fields(
    ["--shell", "--log-level", "debug", "--log-format=json", "--stop-grace", "10", "--health-port", "8080",
     "--health-bind", "::", "--gpus", "0,2", "--tf-port", "2222", "--output-dir", "out", "--downloader", "builtin",
     "--transfers", "8", "--dls-pipe", "/bin/cat", "--", "bash", "-c", "echo hi"], []))
write("options", "environment", fields(["plan", "python3"], [
    ("TRAINLAUNCHER_STOP_GRACE", "2.5"), ("TRAINLAUNCHER_LOG_LEVEL", "warning"), ("TRAINLAUNCHER_HEALTH_PORT", "0"),
    ("DLS_TASK_INDEX", "1"), ("DLS_USE_UPLOADER", "1"), ("DLS_UPLOAD_LOG_OBS_DIR", "obs://bucket/logs/"),
    ("DLS_APP_URL", "obs://bucket/jobs/app/"), ("OBS_ENDPOINT", "https://obs.cn-north-4.myhuaweicloud.com"),
    ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "secret"), ("S3_USE_HTTPS", "0")]))
write("options", "bad-values", fields(["--stop-grace", "soon", "x"], [("TRAINLAUNCHER_HEALTH_BIND", "localhost")]))

# cluster: NAME=VALUE fields
write("cluster", "modelarts", "\0".join([
    "DLS_TASK_INDEX=1", "DLS_TASK_NUMBER=2", "BATCH_CUSTOM0_HOSTS=job-0.svc:6666", "BATCH_CUSTOM1_HOSTS=job-1.svc:6666",
    "CUDA_VISIBLE_DEVICES=0,1", "TRAINLAUNCHER_GPUS=1"]))
write("cluster", "volcano", "\0".join([
    "VC_MASTER_HOSTS=job-master-0.job", "VC_MASTER_NUM=1", "VC_WORKER_HOSTS=job-worker-0.job,job-worker-1.job",
    "VC_WORKER_NUM=2", "HOSTNAME=job-worker-1", "MA_NUM_HOSTS=3", "ASCEND_VISIBLE_DEVICES=0,1,2,3"]))
write("cluster", "user", "\0".join([
    "NNODES=4", "NODE_RANK=3", "MASTER_ADDR=10.0.0.1", "MASTER_PORT=29500", "NPROC_PER_NODE=8", "VC_TASK_INDEX=3",
    "BATCH_CUSTOM0_HOSTS=[fe80::1]:2222", "BATCH_CUSTOM1_HOSTS=a", "BATCH_CUSTOM2_HOSTS=b", "BATCH_CUSTOM3_HOSTS=c:1"]))

# listing: ListObjectsV2 bodies
def listing(keys, truncated=False, token=None):
    contents = "".join(
        f"<Contents><Key>{k}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>"
        f"<ETag>&quot;{hashlib.md5(k.encode()).hexdigest()}&quot;</ETag><Size>{s}</Size>"
        f"<StorageClass>STANDARD</StorageClass></Contents>" for k, s in keys)
    more = f"<NextContinuationToken>{token}</NextContinuationToken>" if token else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"<Name>fuzz-bucket</Name><Prefix>app/</Prefix><KeyCount>{len(keys)}</KeyCount><MaxKeys>1000</MaxKeys>"
            f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>{more}{contents}</ListBucketResult>")
write("listing", "two-keys", listing([("app/train.py", 120), ("app/lib/util.py", 0)]))
write("listing", "markers", listing([("app/", 0), ("app/data/", 0), ("app/data/x.bin", 7)]))
write("listing", "truncated", listing([("app/a", 1)], truncated=True, token="b2Zmc2V0"))
write("listing", "empty", listing([]))

# image: docker save (current and legacy with a symlinked repeat) and an OCI archive
def tar_bytes(members, fmt=tarfile.PAX_FORMAT):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as t:
        for name, kind, value, mode, uid in members:
            info = tarfile.TarInfo(name)
            info.mode, info.uid, info.gid, info.mtime = mode, uid, uid, 0
            if kind == "file":
                info.size = len(value)
                t.addfile(info, io.BytesIO(value))
            else:
                info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "link": tarfile.LNKTYPE}[kind]
                info.linkname = value or ""
                t.addfile(info)
    # tarfile pads to 10 KiB records; two zero blocks end an archive, the rest only slows the fuzzer.
    data = out.getvalue().rstrip(b"\0")
    return data + b"\0" * (-len(data) % 512 + 1024)

base = tar_bytes([("usr/", "dir", None, 0o755, 0), ("usr/bin/", "dir", None, 0o755, 0),
                  ("usr/bin/python3", "file", b"x", 0o755, 0), ("usr/bin/sudo", "file", b"s", 0o4755, 0),
                  ("etc/passwd", "file", b"root:x:0:0::/root:/bin/sh\n", 0o644, 0),
                  ("home/work/run_train.sh", "file", b"#!/bin/sh\n", 0o755, 1000)], tarfile.USTAR_FORMAT)
user = tar_bytes([("opt/app/train.py", "file", b"print(1)\n", 0o644, 1000), ("home/work/su", "link", "usr/bin/sudo", 0o644, 1000),
                  ("opt/.wh.old", "file", b"", 0o644, 0), ("home/run.sh", "file", b"#!/bin/sh\n", 0o755, 0)], tarfile.USTAR_FORMAT)
gz = gzip.compress(user, mtime=0)
sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "rootfs": {"type": "layers", "diff_ids": [sha(base), sha(user)]}}).encode()
write("image", "docker-save.tar", tar_bytes([
    ("aaaa/layer.tar", "file", base, 0o644, 0), ("bbbb/layer.tar", "file", gz, 0o644, 0), ("c.json", "file", config, 0o644, 0),
    ("manifest.json", "file", json.dumps([{"Config": "c.json", "Layers": ["aaaa/layer.tar", "bbbb/layer.tar"]}]).encode(), 0o644, 0)],
    tarfile.USTAR_FORMAT))
legacy_config = json.dumps({"rootfs": {"type": "layers", "diff_ids": [sha(base), sha(user), sha(user)]}}).encode()
write("image", "legacy-repeat.tar", tar_bytes([
    ("1111/layer.tar", "symlink", "../3333/layer.tar", 0o777, 0), ("2222/layer.tar", "file", base, 0o644, 0),
    ("3333/layer.tar", "file", user, 0o644, 0), ("c.json", "file", legacy_config, 0o644, 0),
    ("manifest.json", "file", json.dumps([{"Config": "c.json", "Layers": ["2222/layer.tar", "3333/layer.tar", "1111/layer.tar"]}]).encode(), 0o644, 0)],
    tarfile.USTAR_FORMAT))
blob = lambda b: "blobs/sha256/" + hashlib.sha256(b).hexdigest()
manifest = json.dumps({"schemaVersion": 2, "config": {"digest": sha(config), "size": len(config)},
                       "layers": [{"digest": sha(base), "size": len(base)}, {"digest": sha(gz), "size": len(gz)}]}).encode()
index = json.dumps({"schemaVersion": 2, "manifests": [
    {"digest": sha(manifest), "platform": {"os": "linux", "architecture": "amd64"}},
    {"digest": sha(manifest), "platform": {"os": "linux", "architecture": "arm64"}}]}).encode()
write("image", "oci.tar", tar_bytes([
    ("oci-layout", "file", b'{"imageLayoutVersion":"1.0.0"}', 0o644, 0), (blob(base), "file", base, 0o644, 0),
    (blob(gz), "file", gz, 0o644, 0), (blob(config), "file", config, 0o644, 0), (blob(manifest), "file", manifest, 0o644, 0),
    ("index.json", "file", index, 0o644, 0)], tarfile.USTAR_FORMAT))

# health: what probes and curl send, and a few bad ones
write("health", "get-health", "GET /health HTTP/1.1\r\nHost: 10.0.0.5:8080\r\nUser-Agent: kube-probe/1.30\r\nAccept: */*\r\nConnection: close\r\n\r\n")
write("health", "head-status", "HEAD /status?x=1 HTTP/1.0\r\n\r\n")
write("health", "post", "POST /health HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")
write("health", "partial", "GET /health HTTP/1.1\r\nHost: x\r\n")

# ranktable: HCCL rank tables as ModelArts mounts them (1.0 and 0.x), and two odd ones
write("ranktable", "v1-two-servers", '{\n    "version": "1.0",\n    "server_count": "2",\n    "server_list": [\n        {\n            "server_id": "10.0.0.1",\n            "device": [\n                {"device_id": "0", "device_ip": "192.168.100.101", "rank_id": "0"},\n                {"device_id": "1", "device_ip": "192.168.101.101", "rank_id": "1"}\n            ],\n            "host_nic_ip": "reserve"\n        },\n        {\n            "server_id": "10.0.0.2",\n            "device": [\n                {"device_id": "0", "device_ip": "192.168.100.102", "rank_id": "2"},\n                {"device_id": "1", "device_ip": "192.168.101.102", "rank_id": "3"}\n            ],\n            "host_nic_ip": "reserve"\n        }\n    ],\n    "status": "completed"\n}\n')
write("ranktable", "v0-group-list", '{\n    "board_id": "0x0000",\n    "chip_info": "910",\n    "deploy_mode": "lab",\n    "group_count": "1",\n    "group_list": [\n        {\n            "device_num": "4",\n            "server_num": "2",\n            "group_name": "",\n            "instance_count": "4",\n            "instance_list": [\n                {"devices": [{"device_id": "4", "device_ip": "192.1.27.6"}], "rank_id": "0", "server_id": "10.0.0.1"},\n                {"devices": [{"device_id": "5", "device_ip": "192.2.27.6"}], "rank_id": "1", "server_id": "10.0.0.1"},\n                {"devices": [{"device_id": "4", "device_ip": "192.1.27.7"}], "rank_id": "2", "server_id": "10.0.0.2"},\n                {"devices": [{"device_id": "5", "device_ip": "192.2.27.7"}], "rank_id": "3", "server_id": "10.0.0.2"}\n            ]\n        }\n    ],\n    "para_plane_nic_location": "device",\n    "para_plane_nic_name": ["eth0", "eth1"],\n    "para_plane_nic_num": "2",\n    "status": "completed"\n}\n')
write("ranktable", "duplicate-rank", '{"version": "1.0", "server_list": [{"server_id": "10.0.0.1", "device": [{"device_id": "0", "rank_id": "0"}, {"device_id": "1", "rank_id": "0"}]}]}')
write("ranktable", "numbers", '{"server_list": [{"server_id": 7, "device": [{"device_id": 0, "rank_id": 0}]}]}')

# errorfile: torch's @record file, its plain-string form, and a traceback that is not JSON
write("errorfile", "torch-record", '{"message": {"message": "RuntimeError: boom", "extraInfo": {"py_callstack": "Traceback (most recent call last):\\n  File \\"/job/train.py\\", line 9, in main\\n    step()\\nRuntimeError: boom\\n", "timestamp": "1764650000"}, "errorCode": 1}}')
write("errorfile", "string-message", '{"message": "SIGSEGV"}')
write("errorfile", "not-json", 'Traceback (most recent call last):\n')
# afl-fuzz found it: a property name with a lone surrogate escape threw when compared
write("errorfile", "regression-lone-surrogate-name", b'{"mes\\ud800sage": "S\xff\x7fS8+\xff"}')
