using TrainLauncher.Output;

namespace TrainLauncher.Storage;

/// <summary>
/// A walk of a local directory for upload, as rclone walks one (its local backend): regular
/// files and empty directories are yielded; symlinks are never followed (a link to /etc, to
/// /dev/zero, to itself or to nothing is one skipped entry); FIFOs, sockets and devices are
/// skipped; an entry that cannot be read is one failed entry. Nothing here opens a file, and
/// one bad entry never ends the walk. Streams: memory is one directory's names at a time.
/// </summary>
internal static class LocalTree
{
    /// <summary>One entry of the walk. <c>Key</c>s are relative, '/'-separated.</summary>
    public abstract record Entry(string Path)
    {
        public sealed record File(string Path, string Key, long Size) : Entry(Path);
        /// <summary>A directory with nothing in it: its <c>Key</c> ends with '/' (a marker key).</summary>
        public sealed record EmptyDirectory(string Path, string Key) : Entry(Path);
        /// <summary>Not uploaded by design (a link, a FIFO, ...); <c>Reason</c> is escaped.</summary>
        public sealed record Skipped(string Path, string Reason) : Entry(Path);
        /// <summary>Could not be read; <c>Reason</c> is the OS's message.</summary>
        public sealed record Failed(string Path, string Reason) : Entry(Path);
    }

    /// <summary>Walks <paramref name="root"/> (which may itself be a link: it is what the user named) depth first, names in ordinal order.</summary>
    public static IEnumerable<Entry> Walk(string root)
    {
        var pending = new Stack<(string Path, string Key)>();
        pending.Push((System.IO.Path.GetFullPath(root), ""));
        while (pending.Count > 0)
        {
            var (directory, directoryKey) = pending.Pop();
            var (names, unreadable) = ReadNames(directory);
            if (unreadable is not null)
            {
                yield return unreadable;
                continue;
            }
            if (names.Count == 0 && directoryKey.Length > 0)
                yield return new Entry.EmptyDirectory(directory, directoryKey);

            names.Sort(StringComparer.Ordinal);
            var subdirectories = new List<(string, string)>();
            foreach (var name in names)
            {
                var path = System.IO.Path.Join(directory, name);
                var key = directoryKey + name;
                Entry? entry;
                try
                {
                    entry = Classify(path, key, subdirectories);
                }
                catch (LocalFileException e)
                {
                    entry = new Entry.Failed(path, e.Message);
                }
                if (entry is not null) yield return entry;
            }
            // Pushed in reverse so the stack pops them in name order.
            for (int i = subdirectories.Count - 1; i >= 0; i--) pending.Push(subdirectories[i]);
        }
    }

    private static (List<string> Names, Entry.Failed? Failure) ReadNames(string directory)
    {
        try
        {
            return ([.. Directory.EnumerateFileSystemEntries(directory, "*", Options).Select(System.IO.Path.GetFileName).OfType<string>()], null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ([], new Entry.Failed(directory, LocalFileException.From(e).Message));
        }
    }

    private static Entry? Classify(string path, string key, List<(string, string)> subdirectories)
    {
        var (kind, size) = LocalFiles.Inspect(path);
        switch (kind)
        {
            case LocalFileKind.Regular:
                return new Entry.File(path, key, size);
            case LocalFileKind.Directory:
                subdirectories.Add((path, key + "/"));
                return null;
            case LocalFileKind.Missing:
                return null; // removed since the directory was read: nothing to upload
            case LocalFileKind.SymbolicLink:
                return new Entry.Skipped(path, $"a symbolic link (to {OneLine.Escape(LinkTarget(path))}); links are not followed");
            default:
                return new Entry.Skipped(path, LocalFiles.Describe(kind) + ", not a regular file");
        }
    }

    private static string LinkTarget(string path)
    {
        try { return new FileInfo(path).LinkTarget ?? "?"; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "?"; }
    }

    private static readonly EnumerationOptions Options = new()
    {
        RecurseSubdirectories = false, // recursion is ours: .NET's follows links to directories
        AttributesToSkip = 0,          // dot files too
        IgnoreInaccessible = false,
        ReturnSpecialDirectories = false,
    };
}
