using System.Formats.Tar;
using System.IO.Compression;

namespace TrainLauncher.Images;

/// <summary>Streams the members of one layer blob, plain or gzip (sniffed from the magic bytes).</summary>
internal static class LayerReader
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueMarker = ".wh..wh..opq";

    public static IEnumerable<LayerEntry> Read(Stream blob, string layerName)
    {
        using var content = Decompress(blob, layerName);
        using var reader = new TarReader(content, leaveOpen: true);
        while (true)
        {
            TarEntry? entry;
            try
            {
                entry = reader.GetNextEntry(copyData: false);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or ArgumentException or IOException
                                          or OverflowException or InvalidOperationException or NotSupportedException) // see ImageFiles.TarFiles.Index
            {
                throw new ImageFormatException($"{layerName}: unreadable layer ({e.Message})", e);
            }
            if (entry is null)
                yield break;
            if (Classify(entry) is { } classified)
                yield return classified;
        }
    }

    private static Stream Decompress(Stream blob, string layerName)
    {
        Span<byte> magic = stackalloc byte[4];
        int read = blob.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        blob.Position = 0;
        if (read >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
            return new GZipStream(blob, CompressionMode.Decompress, leaveOpen: false);
        if (read == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
            throw new ImageFormatException($"{layerName}: zstd-compressed layers are not supported; save the image with gzip or plain layers");
        return blob;
    }

    private static LayerEntry? Classify(TarEntry entry)
    {
        if (entry.EntryType is TarEntryType.GlobalExtendedAttributes)
            return null;
        string path = Normalize(entry.Name);
        string name = path[(path.LastIndexOf('/') + 1)..];
        string parent = ParentOf(path);
        if (name == OpaqueMarker)
            return new LayerEntry(parent, LayerEntryKind.OpaqueWhiteout, 0, entry.Mode, entry.Uid);
        if (name.StartsWith(WhiteoutPrefix + WhiteoutPrefix, StringComparison.Ordinal))
            return null; // aufs bookkeeping (.wh..wh.plnk and the like), not a file of the image
        if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
            return new LayerEntry(Join(parent, name[WhiteoutPrefix.Length..]), LayerEntryKind.Whiteout, 0, entry.Mode, entry.Uid);
        var kind = entry.EntryType switch
        {
            TarEntryType.Directory => LayerEntryKind.Directory,
            TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile or TarEntryType.SparseFile
                => LayerEntryKind.File,
            TarEntryType.HardLink => LayerEntryKind.HardLink,
            TarEntryType.SymbolicLink => LayerEntryKind.Symlink,
            _ => LayerEntryKind.Other,
        };
        long size = kind == LayerEntryKind.File ? entry.Length : 0;
        string? target = kind == LayerEntryKind.HardLink ? Normalize(entry.LinkName) : null;
        return new LayerEntry(path, kind, size, entry.Mode, entry.Uid, target);
    }

    /// <summary>"./usr/bin/", "usr//bin/./x/../" and "/usr/bin" all become "/usr/bin"; ".." stops at the root.</summary>
    public static string Normalize(string name)
    {
        var parts = new List<string>();
        foreach (var part in name.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
                continue;
            if (part == "..")
            {
                if (parts.Count > 0)
                    parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(part);
        }
        return "/" + string.Join('/', parts);
    }

    public static string ParentOf(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }

    private static string Join(string directory, string name) => directory == "/" ? "/" + name : directory + "/" + name;
}
