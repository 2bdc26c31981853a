using System.Formats.Tar;

namespace TrainLauncher.Images;

/// <summary>
/// The files of an image archive by name (manifest.json, index.json, blobs/sha256/...), whether
/// the archive is a tar (docker save, OCI archive) or an OCI layout directory. A tar is indexed
/// once by its headers only (names, offsets, sizes); data is read later through windows, so
/// nothing is extracted and memory holds one small record per archive member.
/// </summary>
internal abstract class ImageFiles : IDisposable
{
    public abstract string Describe { get; }
    public abstract bool Contains(string name);

    /// <summary>A seekable read-only stream of one member; dispose it before opening the next.</summary>
    public abstract Stream Open(string name);

    public abstract void Dispose();

    public static ImageFiles OpenArchive(string path)
    {
        if (Directory.Exists(path))
            return new DirectoryFiles(path);
        if (!File.Exists(path))
            throw new ImageFormatException($"{path}: no such file or directory");
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageFormatException($"{path}: cannot open: {e.Message}", e);
        }
        return FromTar(stream, path);
    }

    /// <summary>Indexes a seekable tar stream; the result owns the stream.</summary>
    public static ImageFiles FromTar(Stream archive, string describe)
    {
        try
        {
            return TarFiles.Index(archive, describe);
        }
        catch
        {
            archive.Dispose();
            throw;
        }
    }

    private sealed class DirectoryFiles(string root) : ImageFiles
    {
        public override string Describe => root;

        public override bool Contains(string name) => File.Exists(Path.Combine(root, name));

        public override Stream Open(string name) =>
            new FileStream(Path.Combine(root, name), FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);

        public override void Dispose() { }
    }

    private sealed class TarFiles(Stream archive, string describe, Dictionary<string, (long Offset, long Length)> members)
        : ImageFiles
    {
        public override string Describe => describe;

        public override bool Contains(string name) => members.ContainsKey(MemberName(name));

        public override Stream Open(string name)
        {
            var (offset, length) = members[MemberName(name)];
            return new WindowStream(archive, offset, length);
        }

        public override void Dispose() => archive.Dispose();

        public static TarFiles Index(Stream archive, string describe)
        {
            if (!archive.CanSeek)
                throw new ImageFormatException($"{describe}: the archive must be a regular file (seekable)");
            var members = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
            var links = new Dictionary<string, string>(StringComparer.Ordinal);
            long archiveLength = archive.Length;
            try
            {
                using var reader = new TarReader(archive, leaveOpen: true);
                while (reader.GetNextEntry(copyData: false) is { } entry)
                {
                    string name = MemberName(entry.Name);
                    switch (entry.EntryType)
                    {
                        case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                            // A seekable TarReader skips data by seeking, so a cut-off member is only
                            // noticed here: its declared data runs past the end of the file.
                            if (entry.Length > archiveLength - entry.DataOffset)
                                throw new ImageFormatException(
                                    $"{describe}: truncated archive: {entry.Name} declares {entry.Length} bytes but the file ends first");
                            members[name] = (entry.DataOffset, entry.Length);
                            links.Remove(name);
                            break;
                        case TarEntryType.SymbolicLink:
                            // Legacy docker save writes a repeated layer as ID/layer.tar -> ../FIRST/layer.tar.
                            // An absolute target leaves the archive: the name stays unresolved.
                            if (entry.LinkName.StartsWith('/'))
                                links.Remove(name);
                            else
                                links[name] = MemberName(LayerReader.ParentOf("/" + name) + "/" + entry.LinkName);
                            members.Remove(name);
                            break;
                        case TarEntryType.HardLink:
                            links[name] = MemberName(entry.LinkName);
                            members.Remove(name);
                            break;
                    }
                }
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or ArgumentException
                                          or OverflowException or InvalidOperationException or NotSupportedException)
            {
                // Overflow: a size field larger than a long; InvalidOperation: a GNU long name larger than
                // TarReader allows; NotSupported: a GNU sparse entry. All found by the image fuzz target.
                throw new ImageFormatException($"{describe}: not a readable tar archive ({e.Message})", e);
            }
            foreach (var (name, target) in links)
            {
                if (Resolve(target, members, links) is { } data)
                    members[name] = data;
            }
            if (members.Count == 0)
                throw new ImageFormatException($"{describe}: not a tar archive, or an empty one");
            return new TarFiles(archive, describe, members);
        }

        /// <summary>The data a link leads to through at most a few more links; null for a loop or a missing target.</summary>
        private static (long, long)? Resolve(string target, Dictionary<string, (long, long)> members, Dictionary<string, string> links)
        {
            for (int hops = 0; hops < 8; hops++)
            {
                if (members.TryGetValue(target, out var data))
                    return data;
                if (!links.TryGetValue(target, out var next))
                    return null;
                target = next;
            }
            return null;
        }

        /// <summary>"./a//b/../c" and "a/c" name the same member; ".." stops at the archive's root.</summary>
        private static string MemberName(string name) => LayerReader.Normalize(name)[1..];
    }
}
