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

        public override bool Contains(string name) => members.ContainsKey(name);

        public override Stream Open(string name)
        {
            var (offset, length) = members[name];
            return new WindowStream(archive, offset, length);
        }

        public override void Dispose() => archive.Dispose();

        public static TarFiles Index(Stream archive, string describe)
        {
            if (!archive.CanSeek)
                throw new ImageFormatException($"{describe}: the archive must be a regular file (seekable)");
            var members = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
            long archiveLength = archive.Length;
            try
            {
                using var reader = new TarReader(archive, leaveOpen: true);
                while (reader.GetNextEntry(copyData: false) is { } entry)
                {
                    if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile))
                        continue;
                    // A seekable TarReader skips data by seeking, so a cut-off member is only
                    // noticed here: its declared data runs past the end of the file.
                    if (entry.DataOffset + entry.Length > archiveLength)
                        throw new ImageFormatException(
                            $"{describe}: truncated archive: {entry.Name} declares {entry.Length} bytes but the file ends first");
                    members[MemberName(entry.Name)] = (entry.DataOffset, entry.Length);
                }
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or ArgumentException)
            {
                throw new ImageFormatException($"{describe}: not a readable tar archive ({e.Message})", e);
            }
            if (members.Count == 0)
                throw new ImageFormatException($"{describe}: not a tar archive, or an empty one");
            return new TarFiles(archive, describe, members);
        }

        private static string MemberName(string name) => name.StartsWith("./", StringComparison.Ordinal) ? name[2..] : name;
    }
}
