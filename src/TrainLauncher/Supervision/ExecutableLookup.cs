using TrainLauncher.Interop;

namespace TrainLauncher.Supervision;

/// <summary>PATH lookup, as execvp does it, so a missing program gets our own clear line.</summary>
internal static class ExecutableLookup
{
    public static string? Find(string nameOrPath, string? pathVariable)
    {
        if (nameOrPath.Contains('/'))
            return File.Exists(nameOrPath) || Directory.Exists(nameOrPath) ? Path.GetFullPath(nameOrPath) : null;
        foreach (var dir in (pathVariable ?? "/usr/local/bin:/usr/bin:/bin").Split(':'))
        {
            var candidate = Path.Combine(dir.Length == 0 ? "." : dir, nameOrPath);
            if (File.Exists(candidate) && IsExecutable(candidate)) return Path.GetFullPath(candidate);
        }
        return null;
    }

    public static bool IsExecutable(string path) => Native.access(path, Native.X_OK) == 0;
}
