using TrainLauncher.Launch;
using TrainLauncher.Output;

namespace TrainLauncher.Data;

/// <summary>A directory the launcher replaces (--data-dir) or syncs (--checkpoint-dir): never the
/// job dir, a directory that holds it (`..`, /home: replacing it would delete the job), or /.</summary>
internal static class OwnDirectory
{
    public static string Resolve(string value, string jobDir, string option)
    {
        string dir = Path.GetFullPath(value, jobDir).TrimEnd('/');
        string job = jobDir.TrimEnd('/');
        if (dir.Length == 0 || dir == job || job.StartsWith(dir + "/", StringComparison.Ordinal))
            throw LaunchFailure.Setup($"{option} must name a directory of its own, not the job dir, one that holds it, or /, got '{OneLine.Escape(value)}'");
        return dir;
    }
}
