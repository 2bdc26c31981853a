#!/usr/bin/env bash
# Storage benchmark (issues 4, 13): the launcher's built-in client vs `rclone copy`, same local
# s3rver, side by side (launcher and rclone alternate within each repetition).
#   tests/bench/storage.sh [--quick]
# Rows: fetch 1000 × 8 KiB, fetch 4 × 64 MiB (DLS_APP_URL, --downloader builtin, command `true`),
# upload of a 1 GiB checkpoint + 1000 × 8 KiB (--output-dir to DLS_TRAIN_URL, command `true`),
# and the launcher's peak RSS fetching 10 × more keys (it must not grow with the listing).
# The binary is $TRAINLAUNCHER_BIN (tests/bench/run.sh passes it), else published here.
# With BENCH_FIGURES=FILE it appends `storage.<row>.ratio=N` lines there (run.sh's goal table).
# Prints a Markdown table: medians of 5 runs (3 with --quick), ratios (rclone time / launcher
# time: above 1 the launcher is faster), s3rver's CPU over wall (it is one Node.js thread: near
# 1.0 it is the bottleneck), the client's CPU (user + sys: with the server's, what the two shared
# cores allow), the machine's load, peak RSS (GNU time).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
case "${1-}" in
  --quick) runs=3 ;;
  "") runs=5 ;;
  *) echo "usage: tests/bench/storage.sh [--quick]" >&2; exit 2 ;;
esac
work="$(mktemp -d /tmp/storage-bench.XXXXXX)"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

bash "$root/tests/setup/s3rver.sh"
if ! command -v rclone >/dev/null; then
  apt-get update -qq && apt-get install -y -qq rclone >/dev/null
fi
[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
launcher="${TRAINLAUNCHER_BIN:-}"
if [[ -z "$launcher" ]]; then
  dotnet publish "$root/src/TrainLauncher" -c Release -o "$work/launcher" -v quiet -nologo >/dev/null
  launcher="$work/launcher/trainlauncher"
fi

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$work/s3"
NODE_OPTIONS=--openssl-legacy-provider node "$root/tests/.deps/node_modules/s3rver/bin/s3rver.js" \
  -d "$work/s3" -a 127.0.0.1 -p "$port" --silent >/dev/null &
server_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

# rclone's AWS SDK refuses a custom CA bundle with its own HTTP transport; plain http needs none.
unset AWS_CA_BUNDLE
export OBS_ENDPOINT="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other \
  RCLONE_CONFIG_BENCH_ENDPOINT="$OBS_ENDPOINT" RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=S3RVER \
  RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=S3RVER RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true

echo "seeding: 1000 × 8 KiB, 4 × 64 MiB, 10,000 × 1 KiB, a 1 GiB checkpoint" >&2
mkdir -p "$work/seed/small" "$work/seed/large" "$work/seed/many" "$work/seed/ckpt/logs"
for i in $(seq -w 1 1000); do head -c 8192 /dev/urandom > "$work/seed/small/f$i.bin"; done
for i in 1 2 3 4; do head -c $((64 << 20)) /dev/urandom > "$work/seed/large/model$i.bin"; done
python3 - "$work/seed/many" <<'PY'
import os, sys
for i in range(10000):
    with open(os.path.join(sys.argv[1], f"k{i:05d}.bin"), "wb") as f:
        f.write(os.urandom(1024))
PY
head -c $((1 << 30)) /dev/urandom > "$work/seed/ckpt/model.ckpt"
cp "$work/seed/small/"* "$work/seed/ckpt/logs/"
rclone mkdir bench:bench
rclone copy "$work/seed/small" bench:bench/small
rclone copy "$work/seed/large" bench:bench/large
rclone copy --transfers 16 "$work/seed/many" bench:bench/many

server_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
hz="$(getconf CLK_TCK)"
load() { cut -d' ' -f1 /proc/loadavg; }

# measure NAME ROW CHECK CMD... → appends "wall server_cpu_over_wall peak_rss_kib load client_cpu_s" to $work/NAME-ROW.
# CHECK is run after the command and must succeed (the transfer is complete).
measure() {
  local name="$1" row="$2" check="$3"; shift 3
  local t0 c0 t1 c1 rss cpu l
  l="$(load)"
  c0="$(server_ticks)"; t0="$(date +%s.%N)"
  /usr/bin/time -f "%M %U %S" -o "$work/rss" "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; exit 1; }
  t1="$(date +%s.%N)"; c1="$(server_ticks)"
  read -r rss user sys < <(tail -1 "$work/rss")
  cpu="$(python3 -c "print($user + $sys)")"
  eval "$check" || { echo "$name $row: incomplete transfer" >&2; cat "$work/last.log" >&2; exit 1; }
  python3 -c "w=$t1-$t0; print(f'{w:.3f} {($c1-$c0)/$hz/w:.2f} $rss $l $cpu')" >>"$work/$name-$row"
}

files_in() { find "$1" -type f | wc -l; }
objects_in() { rclone lsf -R --files-only "bench:bench/$1" | wc -l; }
fetch_launcher() { # TREE
  rm -rf "$work/out"
  measure launcher "$1" "[[ \$(files_in $work/out) == $2 ]]" env DLS_APP_URL="obs://bench/$1/" DLS_USER_JOB_DIR="$work/out" \
    "$launcher" --downloader builtin --log-level error --health-port 0 --log-file '' --termination-log '' -- true
}
fetch_rclone() { # TREE
  rm -rf "$work/out"
  measure rclone "$1" "[[ \$(files_in $work/out) == $2 ]]" rclone copy "bench:bench/$1" "$work/out"
}

for run in $(seq "$runs"); do
  for tree in small:1000 large:4; do
    echo "run $run/$runs: fetch ${tree%%:*}" >&2
    fetch_launcher "${tree%%:*}" "${tree##*:}"
    fetch_rclone "${tree%%:*}" "${tree##*:}"
  done
  echo "run $run/$runs: upload" >&2
  measure launcher upload "[[ \$(objects_in up-l$run) == 1001 ]]" env DLS_TRAIN_URL="obs://bench/up-l$run/" DLS_USER_JOB_DIR="$work/job" \
    "$launcher" --output-dir "$work/seed/ckpt" --log-level error --health-port 0 --log-file '' --termination-log '' -- true
  measure rclone upload "[[ \$(objects_in up-r$run) == 1001 ]]" rclone copy "$work/seed/ckpt" "bench:bench/up-r$run"
  rclone purge "bench:bench/up-l$run"; rclone purge "bench:bench/up-r$run"
done
echo "fetch many (RSS)" >&2
fetch_launcher many 10000
fetch_rclone many 10000

python3 - "$work" "$runs" "${BENCH_FIGURES:-}" <<'PY'
import statistics, sys
work, runs, figures = sys.argv[1], sys.argv[2], sys.argv[3]
def load(name, row):
    rows = [list(map(float, l.split())) for l in open(f"{work}/{name}-{row}")]
    return [statistics.median(c) for c in zip(*rows)], len(rows)
print(f"| row | launcher s | rclone s | rclone / launcher | s3rver CPU/wall, launcher | s3rver CPU/wall, rclone | launcher CPU s | rclone CPU s | launcher peak RSS MiB | rclone peak RSS MiB | load (1 min) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for row, label in (("small", "fetch 1000 × 8 KiB"), ("large", "fetch 4 × 64 MiB"), ("upload", "upload 1 GiB + 1000 × 8 KiB"), ("many", "fetch 10,000 × 1 KiB (RSS, 1 run)")):
    (l, n), (r, _) = load("launcher", row), load("rclone", row)
    print(f"| {label} (median of {n}) | {l[0]:.2f} | {r[0]:.2f} | **{r[0]/l[0]:.2f}×** | {l[1]:.2f} | {r[1]:.2f} | {l[4]:.2f} | {r[4]:.2f} | {l[2]/1024:.0f} | {r[2]/1024:.0f} | {l[3]:.1f} |")
    if figures and row != "many":
        with open(figures, "a") as f:
            f.write(f"storage.{row}.ratio={r[0]/l[0]:.2f}\n")
PY
