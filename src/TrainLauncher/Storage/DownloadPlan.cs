using TrainLauncher.Output;

namespace TrainLauncher.Storage;

/// <summary>
/// The listing turned into local paths, checked before anything is written: every key must be
/// a safe relative path under the prefix, and no path may be both a file and a directory.
/// </summary>
internal sealed record DownloadPlan(IReadOnlyList<DownloadPlan.File> Files, IReadOnlyList<string> Directories)
{
    public sealed record File(string Key, string Path, long Size, string? ETag);

    public static DownloadPlan Create(ObjectUrl source, IEnumerable<Amazon.S3.Model.S3Object> listing, string targetDir)
    {
        var root = System.IO.Path.GetFullPath(targetDir);
        var files = new List<File>();
        var directories = new SortedSet<string>(StringComparer.Ordinal);
        var anyObject = false;
        long totalBytes = 0;
        foreach (var entry in listing)
        {
            anyObject = true;
            // The server decides what it lists: a key outside the prefix (or none) is its error, not ours.
            if (entry.Key is not { } key || !key.StartsWith(source.Prefix, StringComparison.Ordinal))
                throw new ObjectStoreException(
                    $"the listing of {source} holds the key '{OneLine.Escape(entry.Key)}', which is not under the prefix; nothing was fetched");
            var relative = key[source.Prefix.Length..];
            if (relative.Length == 0)
                continue; // the marker of the prefix itself
            var isMarker = relative.EndsWith('/');
            var segments = (isMarker ? relative[..^1] : relative).Split('/');
            if (relative.StartsWith('/') || segments.Any(s => s is "" or "." or ".." || s.Contains('\0')))
            {
                throw new ObjectStoreException(
                    $"unsafe object key '{OneLine.Escape(entry.Key)}' under {source}: a leading '/', an empty, '.' or '..' segment would write outside the target; nothing was fetched");
            }
            var path = System.IO.Path.GetFullPath(System.IO.Path.Combine([root, .. segments]));
            if (!path.StartsWith(root + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new ObjectStoreException($"unsafe object key '{OneLine.Escape(entry.Key)}' under {source}: it resolves outside the target; nothing was fetched");

            for (var i = 1; i < segments.Length; i++)
                directories.Add(System.IO.Path.Combine([root, .. segments[..i]]));
            if (isMarker)
            {
                directories.Add(path);
                continue;
            }
            // Sizes the server declares are added up for progress and checked against each body.
            if (entry.Size is < 0 || long.MaxValue - totalBytes < (entry.Size ?? 0))
                throw new ObjectStoreException(
                    $"the listing of {source} declares {entry.Size} bytes for '{OneLine.Escape(key)}', which no fetch can hold; nothing was fetched");
            totalBytes += entry.Size ?? 0;
            files.Add(new File(key, path, entry.Size ?? 0, entry.ETag));
        }
        if (!anyObject)
            throw new ObjectStoreException($"no objects under {source}: the prefix is empty or does not exist");
        if (files.FirstOrDefault(f => directories.Contains(f.Path)) is { } clash)
            throw new ObjectStoreException($"object key '{OneLine.Escape(clash.Key)}' under {source} is both a file and a directory prefix; nothing was fetched");

        // Largest first, so a big object does not start last and set the total time alone.
        return new DownloadPlan([.. files.OrderByDescending(f => f.Size)], [.. directories]);
    }
}
