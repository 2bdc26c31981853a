using System.Formats.Tar;
using System.Security;
using System.Text;
using CsCheck;
using TrainLauncher.Fuzz;

namespace TrainLauncher.Tests.Fuzz;

/// <summary>
/// CsCheck generators of fuzz inputs: byte-level edits of the committed seeds (what afl-fuzz does
/// first, without its coverage feedback) and structure-aware inputs per target, which reach
/// the deep checks a byte flip rarely gets past (a JSON of the wrong shape inside a valid tar,
/// an XML listing with hostile keys and sizes).
/// </summary>
internal static class InputGenerators
{
    /// <summary>One byte-level edit: kind, two positions or counts, a few bytes.</summary>
    private static readonly Gen<(int Kind, uint A, uint B, byte[] Bytes)> Edit =
        Gen.Select(Gen.Int[0, 5], Gen.UInt, Gen.UInt, Gen.Byte.Array[1, 8]);

    /// <summary>A seed with 1 to 8 edits: flip a bit, set a byte, insert or delete bytes, insert a dictionary word, repeat a run.</summary>
    public static Gen<byte[]> MutatedSeed(FuzzCorpus corpus) =>
        Gen.Select(Gen.Int[0, corpus.Seeds.Count - 1], Edit.Array[1, 8], (i, edits) => Apply(corpus, corpus.Seeds[i].Bytes, edits));

    private static byte[] Apply(FuzzCorpus corpus, byte[] seed, (int Kind, uint A, uint B, byte[] Bytes)[] edits)
    {
        var bytes = new List<byte>(seed);
        foreach (var (kind, a, b, some) in edits)
        {
            int at = bytes.Count == 0 ? 0 : (int)(a % (uint)bytes.Count);
            switch (bytes.Count == 0 ? 2 : kind)
            {
                case 0:
                    bytes[at] ^= (byte)(1 << (int)(b % 8));
                    break;
                case 1:
                    bytes[at] = some[0];
                    break;
                case 2:
                    bytes.InsertRange(at, some);
                    break;
                case 3:
                    bytes.RemoveRange(at, Math.Min(1 + (int)(b % 64), bytes.Count - at));
                    break;
                case 4 when corpus.Words.Count > 0:
                    bytes.InsertRange(at, corpus.Words[(int)(b % (uint)corpus.Words.Count)]);
                    break;
                default:
                    int length = Math.Min(1 + (int)(b % 64), bytes.Count - at);
                    bytes.InsertRange((int)(b % (uint)bytes.Count), bytes.GetRange(at, length));
                    break;
            }
        }
        return [.. bytes];
    }

    /// <summary>Text a user or a platform could put anywhere: ordinary words, numbers at the edges, control characters.</summary>
    private static readonly Gen<string> Hostile = Gen.Frequency(
        (3, Gen.Char["abcxyz019.,:=-_/[]@ "].Array[0, 12].Select(c => new string(c))),
        (2, Gen.Char["\n\r\t\0\u001b\u0085\u2028\u007f\"'\\ a1"].Array[1, 6].Select(c => new string(c))),
        (2, Gen.OneOf("", " ", "0", "-1", "1", "2", "65535", "65536", "2147483647", "2147483648", "99999999999999999999",
            "1e309", "NaN", "-0", "0x10", "\uD800", "\u00e9", "all", "none", "true", "yes")),
        (1, Gen.String[0, 24]));

    private static readonly string[] OptionNames =
    [
        "shell", "no-stdbuf", "log-file", "log-level", "log-format", "stop-grace", "health-port", "health-bind",
        "termination-log", "gpus", "tf-port", "wait-hosts", "device-dir", "obs-endpoint", "region", "s3-path-style",
        "transfers", "output-dir", "downloader",
        "requirements", "data-dir", "checkpoint-dir", "checkpoint-url", "checkpoint-every", "checkpoint-delete", "no-output-timeout", "no-output-action", "dls-dns-fixer", "dls-decryptor", "dls-key-client", "dls-pipe", "dls-pipe-stall", "dls-downloader",
    ];

    private static readonly string[] JobVariables =
    [
        "DLS_TASK_INDEX", "DLS_USE_UPLOADER", "DLS_UPLOAD_LOG_OBS_DIR", "DLS_APP_URL", "DLS_USER_HOME_DIR", "DLS_USER_JOB_DIR",
        "DLS_DLKS_JOB_ID", "OBS_ENDPOINT", "S3_ENDPOINT", "S3_USE_HTTPS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION", "S3_ACCESS_KEY_ID", "HOME", "DLS_DATA_URL", "DLS_TRAIN_URL",
    ];

    /// <summary>Launcher arguments and TRAINLAUNCHER_*/platform variables, in the options target's format.</summary>
    public static Gen<byte[]> Options { get; } = Gen.Select(
        Gen.Frequency(
            (3, Gen.Select(Gen.OneOf(OptionNames), Hostile, Gen.Bool, (name, value, inline) => inline ? [$"--{name}={value}"] : new[] { $"--{name}", value })),
            (1, Gen.Select(Hostile, v => new[] { v })),
            (1, Gen.Const(new[] { "--" }))).Array[0, 6],
        Gen.Frequency(
            (2, Gen.Select(Gen.OneOf(OptionNames), Hostile, (name, value) => KeyValuePair.Create(global::TrainLauncher.Launch.OptionParser.EnvName(name), value))),
            (1, Gen.Select(Gen.OneOf(JobVariables), Hostile, KeyValuePair.Create))).Array[0, 6],
        Hostile,
        (options, environment, command) => FuzzInput.Encode([.. options.SelectMany(o => o), command], environment));

    private static readonly string[] ClusterVariables =
    [
        "DLS_TASK_INDEX", "DLS_TASK_NUMBER", "MA_NUM_HOSTS", "VC_TASK_INDEX", "VC_WORKER_HOSTS", "VC_WORKER_NUM",
        "VC_MASTER_HOSTS", "VC_MASTER_NUM", "VC_PS_HOSTS", "VC_PS_NUM", "BATCH_CUSTOM0_HOSTS", "BATCH_CUSTOM1_HOSTS",
        "BATCH_CUSTOM2_HOSTS", "BATCH_CUSTOM999999_HOSTS", "HOSTNAME", "NNODES", "NODE_RANK", "NPROC_PER_NODE", "MASTER_ADDR",
        "MASTER_PORT", "TRAINLAUNCHER_HOSTFILE", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "ASCEND_RT_VISIBLE_DEVICES",
        "ASCEND_VISIBLE_DEVICES", "TRAINLAUNCHER_GPUS",
    ];

    private static readonly Gen<string> Host = Gen.Frequency(
        (3, Gen.OneOf("job-0", "job-worker-1.job", "10.0.0.1", "[fe80::1]", "::1", "job-master-0.job", "a")),
        (1, Hostile));

    private static readonly Gen<string> HostList = Gen.Select(
        Gen.Select(Host, Gen.Frequency((2, Gen.Const("")), (1, Gen.Select(Hostile, p => ":" + p)), (1, Gen.Const(":6666"))), (h, p) => h + p).Array[0, 4],
        hosts => string.Join(',', hosts));

    /// <summary>The layout and accelerator variables with numbers at the edges and host lists of every shape.</summary>
    public static Gen<byte[]> Cluster { get; } = Gen.Select(
        Gen.OneOf(ClusterVariables),
        Gen.Frequency((2, Hostile), (2, HostList), (1, Gen.Int[-2, 9].Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)))),
        (name, value) => $"{name}={value}").Array[0, 10]
        .Select(fields => Encoding.UTF8.GetBytes(string.Join('\0', fields)));

    private static readonly Gen<string> KeyPart = Gen.Frequency(
        (4, Gen.OneOf("a", "train.py", "lib", "data", "x.bin")),
        (2, Gen.OneOf("", ".", "..", "&#10;", "&#13;", "&#0;", "&#x85;", "&#x2028;", "\u00e9", "&lt;", "%0A", "/", "app", "app2")),
        (1, Hostile.Select(SecurityElement.Escape)));

    private static readonly Gen<string> Contents = Gen.Select(
        Gen.Frequency((4, Gen.Const("app/")), (1, Gen.Const("")), (1, Gen.Const("other/"))),
        KeyPart.Array[1, 4],
        Gen.Frequency((4, Gen.Int[0, 100].Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            (1, Gen.OneOf("-1", "9223372036854775807", "9223372036854775808", "abc", "", "1e3", " 5"))),
        Gen.Int[0, 6],
        (prefix, parts, size, shape) => shape switch
        {
            0 => $"<Contents><Size>{size}</Size></Contents>", // no key
            1 => $"<Contents><Key>{prefix}{string.Join('/', parts)}</Key></Contents>", // no size
            _ => $"<Contents><Key>{prefix}{string.Join('/', parts)}</Key><Size>{size}</Size><ETag>&quot;0&quot;</ETag></Contents>",
        });

    /// <summary>ListObjectsV2 bodies: hostile keys and sizes, truncation with and without a token, broken XML.</summary>
    public static Gen<byte[]> Listing { get; } = Gen.Select(
        Contents.Array[0, 5],
        Gen.OneOf("", "<IsTruncated>false</IsTruncated>", "<IsTruncated>true</IsTruncated>",
            "<IsTruncated>true</IsTruncated><NextContinuationToken>t</NextContinuationToken>",
            "<IsTruncated>maybe</IsTruncated>", "<IsTruncated>true</IsTruncated><NextContinuationToken></NextContinuationToken>"),
        Gen.OneOf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "", "<?xml version=\"1.0\" encoding=\"UTF-16\"?>", "\uFEFF"),
        Gen.Frequency((8, Gen.Const("")), (1, Gen.OneOf("<", "</ListBucketResult>", "&bogus;", "<Contents>"))),
        (contents, truncation, declaration, trailer) => Encoding.UTF8.GetBytes(
            $"{declaration}<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>fuzz-bucket</Name><Prefix>app/</Prefix>"
            + $"{truncation}{string.Concat(contents)}</ListBucketResult>{trailer}"));

    private static readonly string[] JsonKeys =
        ["Config", "Layers", "manifests", "digest", "platform", "os", "architecture", "layers", "config", "rootfs", "diff_ids", "type", "mediaType"];

    private static Gen<string> Json(int depth)
    {
        var scalar = Gen.Frequency(
            (3, Gen.OneOf("\"linux\"", "\"amd64\"", "\"layers\"", "\"c.json\"", "\"aaaa/layer.tar\"", "\"1111/layer.tar\"",
                "\"sha256:" + new string('a', 64) + "\"", "\"blobs/sha256/x\"", "\"\\ud800\"", "\"../../etc/passwd\"")),
            (2, Gen.OneOf("0", "-1", "1e999", "true", "false", "null", "\"\"", "7")),
            (1, Hostile.Select(s => System.Text.Json.JsonSerializer.Serialize(s))));
        if (depth == 0)
            return scalar;
        var inner = Json(depth - 1);
        return Gen.Frequency(
            (2, scalar),
            (2, inner.Array[0, 3].Select(items => "[" + string.Join(',', items) + "]")),
            (3, Gen.Select(Gen.OneOf(JsonKeys), inner, (k, v) => $"\"{k}\":{v}").Array[0, 4].Select(p => "{" + string.Join(',', p) + "}")));
    }

    /// <summary>A seed archive with one JSON member (manifest, index, config, manifest blob) replaced by JSON of any shape.</summary>
    public static Gen<byte[]> ImageWithJson(FuzzCorpus corpus)
    {
        // The regression-* seeds are archives the tar reader refuses: nothing to replace in them.
        var archives = corpus.Seeds.Where(s => !s.Name.StartsWith("regression-", StringComparison.Ordinal)).Select(s => s.Bytes).ToList();
        return Gen.Select(Gen.Int[0, archives.Count - 1], Gen.Int[0, 15], Json(3),
            (seed, member, json) => ReplaceJsonMember(archives[seed], member, json));
    }

    private static byte[] ReplaceJsonMember(byte[] archive, int which, string json)
    {
        var entries = new List<(string Name, TarEntryType Type, string Link, byte[] Data)>();
        using (var reader = new TarReader(new MemoryStream(archive)))
        {
            while (reader.GetNextEntry(copyData: true) is { } entry)
            {
                var data = new MemoryStream();
                entry.DataStream?.CopyTo(data);
                entries.Add((entry.Name, entry.EntryType, entry.LinkName, data.ToArray()));
            }
        }
        var documents = entries.Select((e, i) => (e, i)).Where(x => x.e.Data is [(byte)'{' or (byte)'[', ..]).Select(x => x.i).ToList();
        if (documents.Count > 0)
        {
            int index = documents[which % documents.Count];
            entries[index] = entries[index] with { Data = Encoding.UTF8.GetBytes(json) };
        }
        var output = new MemoryStream();
        using (var writer = new TarWriter(output, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var (name, type, link, data) in entries)
            {
                var entry = new UstarTarEntry(type, name);
                if (type is TarEntryType.SymbolicLink or TarEntryType.HardLink)
                    entry.LinkName = link;
                else if (data.Length > 0)
                    entry.DataStream = new MemoryStream(data);
                writer.WriteEntry(entry);
            }
        }
        return output.ToArray();
    }

    /// <summary>Requests made of the words the reader looks for, in any order, plus raw bytes.</summary>
    public static Gen<byte[]> Health(FuzzCorpus corpus) => Gen.Frequency(
        (3, Gen.OneOf([.. corpus.Words]).Array[0, 12].Select(words => words.SelectMany(w => w).ToArray())),
        (1, Gen.Byte.Array[0, 64]),
        (1, Gen.Byte.Array[HealthRequestMax - 2, HealthRequestMax + 2]));

    private const int HealthRequestMax = global::TrainLauncher.Health.HealthRequest.MaxBytes;
}
