using Microsoft.Win32.SafeHandles;
using TrainLauncher.Output;

namespace TrainLauncher.Storage;

/// <summary>
/// Where each listed key lands under the target directory, decided key by key as the listing
/// streams in: a key must be a safe relative path under the prefix (nothing is ever written
/// outside the target) and declare a possible size. Directories are created as keys need them;
/// the target itself only once there is a first object.
/// </summary>
internal sealed class FetchLayout(ObjectUrl source, string targetDir)
{
    /// <summary>More than any store holds in one object (S3: 5 TiB, OBS: 48.8 TB).</summary>
    public const long MaxObjectBytes = 50_000_000_000_000;

    private readonly string root = System.IO.Path.GetFullPath(targetDir);
    private string? lastDirectory;

    /// <summary>A key to download: its object key, local path, declared size and ETag.</summary>
    public sealed record File(string Key, string Path, long Size, string? ETag);

    /// <summary>What <see cref="Place"/> made of one listed object.</summary>
    public enum Placement { Download, Directory, Outside }

    /// <summary>
    /// Checks one page before any of its objects is placed, so a bad key in the first page
    /// fails the fetch before anything is written.
    /// </summary>
    public void Check(IEnumerable<Amazon.S3.Model.S3Object> page)
    {
        foreach (var entry in page)
            Resolve(entry);
    }

    /// <summary>Creates the directories <paramref name="entry"/> needs; <paramref name="file"/> is set for a download.</summary>
    public Placement Place(Amazon.S3.Model.S3Object entry, out File? file)
    {
        file = null;
        var (_, segments, isMarker) = Resolve(entry);
        if (segments is null) return Placement.Outside;
        if (segments.Length == 0) { EnsureDirectory(root, entry.Key); return Placement.Directory; } // the prefix's own marker

        var path = System.IO.Path.Combine([root, .. segments]);
        EnsureDirectory(isMarker ? path : System.IO.Path.GetDirectoryName(path)!, entry.Key);
        if (isMarker) return Placement.Directory;
        file = new File(entry.Key, path, entry.Size!.Value, entry.ETag);
        return Placement.Download;
    }

    /// <summary>
    /// Creates the file a download writes into (it must not exist: a key listed twice, or a
    /// directory of the same name made by another key, is an error of the listing). Readable
    /// too: a ranged download hashes what it wrote. <paramref name="preallocate"/> reserves the
    /// space first, so a full disk fails before the download rather than in the middle of it.
    /// </summary>
    public SafeFileHandle Create(File file, bool preallocate)
    {
        try
        {
            return System.IO.File.OpenHandle(file.Path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
                preallocationSize: preallocate ? file.Size : 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (Directory.Exists(file.Path)) throw new ObjectStoreException(Clash(file.Key));
            if (System.IO.File.Exists(file.Path)) throw new ObjectStoreException($"object key '{OneLine.Escape(file.Key)}' under {source} is listed twice");
            throw new LocalFileException("cannot create the local file: " + LocalFileException.From(e).Message, e);
        }
    }

    /// <summary>The message for a path that exists as a directory where a file must go (or the reverse).</summary>
    public string Clash(string key) =>
        $"object key '{OneLine.Escape(key)}' under {source} is both a file and a directory prefix";

    /// <summary>The key relative to the prefix and its path segments; segments null when the key is outside the prefix.</summary>
    private (string Relative, string[]? Segments, bool IsMarker) Resolve(Amazon.S3.Model.S3Object entry)
    {
        var key = entry.Key ?? throw new ObjectStoreException($"the listing of {source} has an object without a key: the listing is wrong");
        if (!key.StartsWith(source.Prefix, StringComparison.Ordinal))
            return ("", null, false);
        var relative = key[source.Prefix.Length..];
        if (relative.Length == 0)
            return ("", [], true);
        var isMarker = relative.EndsWith('/');
        var segments = (isMarker ? relative[..^1] : relative).Split('/');
        if (relative.StartsWith('/') || segments.Any(s => s is "" or "." or ".." || s.Contains('\0')))
        {
            throw new ObjectStoreException(
                $"unsafe object key '{OneLine.Escape(key)}' under {source}: a leading '/', an empty, '.' or '..' segment or a NUL would write outside the target");
        }
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine([root, .. segments]));
        if (!path.StartsWith(root + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ObjectStoreException($"unsafe object key '{OneLine.Escape(key)}' under {source}: it resolves outside the target");
        if (!isMarker)
        {
            var size = entry.Size ?? throw new ObjectStoreException(
                $"object key '{OneLine.Escape(key)}' under {source} declares no size: the listing is wrong");
            if (size is < 0 or > MaxObjectBytes)
            {
                throw new ObjectStoreException(
                    $"object key '{OneLine.Escape(key)}' under {source} declares {size} bytes, more than one object can hold (50 TB): the listing is wrong");
            }
        }
        return (relative, segments, isMarker);
    }

    private void EnsureDirectory(string directory, string key)
    {
        if (directory == lastDirectory) return;
        try
        {
            Directory.CreateDirectory(directory);
            lastDirectory = directory;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file where a directory must go: two keys disagree ("a" and "a/b").
            for (var d = directory; d.Length > root.Length; d = System.IO.Path.GetDirectoryName(d)!)
            {
                if (System.IO.File.Exists(d)) throw new ObjectStoreException(Clash(key));
            }
            throw new ObjectStoreException(
                $"cannot create the directory {OneLine.Escape(directory)}: {LocalFileException.From(e).Message}");
        }
    }
}
