using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace TrainLauncher.Tests.Images;

/// <summary>A layer built in memory with System.Formats.Tar, named the way docker writes layers (no leading slash).</summary>
internal sealed class TestLayer
{
    private readonly List<PaxTarEntry> _entries = [];

    public bool Gzip { get; init; }

    public TestLayer File(string path, string content = "x", UnixFileMode mode = (UnixFileMode)0b110_100_100, int uid = 0)
    {
        var entry = Entry(TarEntryType.RegularFile, path, mode, uid);
        entry.DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content));
        _entries.Add(entry);
        return this;
    }

    public TestLayer Dir(string path) => Add(Entry(TarEntryType.Directory, path, (UnixFileMode)0b111_101_101, 0));

    public TestLayer Symlink(string path, string target)
    {
        var entry = Entry(TarEntryType.SymbolicLink, path, (UnixFileMode)0b111_111_111, 0);
        entry.LinkName = target;
        return Add(entry);
    }

    public TestLayer HardLink(string path, string target, UnixFileMode mode = (UnixFileMode)0b110_100_100, int uid = 0)
    {
        var entry = Entry(TarEntryType.HardLink, path, mode, uid);
        entry.LinkName = target.TrimStart('/');
        return Add(entry);
    }

    public TestLayer Whiteout(string path)
    {
        int slash = path.LastIndexOf('/');
        return File(path[..(slash + 1)] + ".wh." + path[(slash + 1)..], "");
    }

    public TestLayer Opaque(string dir) => File(dir.TrimEnd('/') + "/.wh..wh..opq", "");

    private TestLayer Add(PaxTarEntry entry)
    {
        _entries.Add(entry);
        return this;
    }

    private static PaxTarEntry Entry(TarEntryType type, string path, UnixFileMode mode, int uid) =>
        new(type, path.TrimStart('/')) { Mode = mode, Uid = uid, Gid = uid, ModificationTime = DateTimeOffset.UnixEpoch };

    /// <summary>The uncompressed layer tar.</summary>
    public byte[] Tar()
    {
        var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var entry in _entries)
            {
                entry.DataStream?.Seek(0, SeekOrigin.Begin);
                writer.WriteEntry(entry);
            }
        }
        return stream.ToArray();
    }

    /// <summary>The layer as stored: gzip or plain.</summary>
    public byte[] Blob()
    {
        byte[] tar = Tar();
        if (!Gzip)
            return tar;
        var stream = new MemoryStream();
        using (var gzip = new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(tar);
        return stream.ToArray();
    }
}

/// <summary>Writes an image as docker save, OCI archive or OCI layout directory, with real digests and diff ids.</summary>
internal sealed class TestImage(params TestLayer[] layers)
{
    public IReadOnlyList<TestLayer> Layers => layers;

    public static string Sha256(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    private byte[] Config()
    {
        var diffIds = new JsonArray(layers.Select(l => (JsonNode)Sha256(l.Tar())).ToArray());
        var config = new JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = diffIds },
        };
        return Encoding.UTF8.GetBytes(config.ToJsonString());
    }

    /// <summary>The classic `docker save` layout: ID/layer.tar, CONFIG.json, manifest.json last.</summary>
    public void WriteDockerSave(string path)
    {
        using var file = System.IO.File.Create(path);
        using var writer = new TarWriter(file, TarEntryFormat.Pax);
        var names = new JsonArray();
        foreach (var layer in layers)
        {
            byte[] blob = layer.Blob();
            string id = Sha256(blob)["sha256:".Length..];
            Write(writer, $"{id}/layer.tar", blob);
            names.Add($"{id}/layer.tar");
        }
        byte[] config = Config();
        string configName = Sha256(config)["sha256:".Length..] + ".json";
        Write(writer, configName, config);
        var manifest = new JsonArray(new JsonObject
        {
            ["Config"] = configName,
            ["RepoTags"] = new JsonArray("test:latest"),
            ["Layers"] = names,
        });
        Write(writer, "manifest.json", Encoding.UTF8.GetBytes(manifest.ToJsonString()));
    }

    public void WriteOciArchive(string path)
    {
        using var file = System.IO.File.Create(path);
        using var writer = new TarWriter(file, TarEntryFormat.Pax);
        foreach (var (name, bytes) in OciFiles())
            Write(writer, name, bytes);
    }

    public void WriteOciDirectory(string dir)
    {
        foreach (var (name, bytes) in OciFiles())
        {
            string target = Path.Combine(dir, name);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            System.IO.File.WriteAllBytes(target, bytes);
        }
    }

    private IEnumerable<(string Name, byte[] Bytes)> OciFiles()
    {
        yield return ("oci-layout", Encoding.UTF8.GetBytes("""{"imageLayoutVersion":"1.0.0"}"""));
        var layerDescriptors = new JsonArray();
        foreach (var layer in layers)
        {
            byte[] blob = layer.Blob();
            yield return (BlobName(blob), blob);
            layerDescriptors.Add(new JsonObject
            {
                ["mediaType"] = layer.Gzip ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.oci.image.layer.v1.tar",
                ["digest"] = Sha256(blob),
                ["size"] = blob.Length,
            });
        }
        byte[] config = Config();
        yield return (BlobName(config), config);
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
            ["config"] = new JsonObject
            {
                ["mediaType"] = "application/vnd.oci.image.config.v1+json", ["digest"] = Sha256(config), ["size"] = config.Length,
            },
            ["layers"] = layerDescriptors,
        };
        byte[] manifestBytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        yield return (BlobName(manifestBytes), manifestBytes);
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["manifests"] = new JsonArray(new JsonObject
            {
                ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
                ["digest"] = Sha256(manifestBytes),
                ["size"] = manifestBytes.Length,
            }),
        };
        yield return ("index.json", Encoding.UTF8.GetBytes(index.ToJsonString()));
    }

    private static string BlobName(byte[] bytes) => "blobs/" + Sha256(bytes).Replace(':', '/');

    public static void Write(TarWriter writer, string name, byte[] bytes) =>
        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = new MemoryStream(bytes), Mode = (UnixFileMode)0b110_100_100, ModificationTime = DateTimeOffset.UnixEpoch,
        });
}

/// <summary>A temporary directory removed after the test.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("check-image-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
