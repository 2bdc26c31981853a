using System.Text.RegularExpressions;

namespace TrainLauncher.Variables;

/// <summary>
/// SPEC 3.4: on shared nodes the platform leaves other jobs' variables behind. Names like
/// <c>ABC123_20240101_...</c> or <c>KUBERNETES_*</c> are removed unless they belong to this
/// job (start with DLS_JOB_ID upper-cased, '-' → '_'); with no job id every match goes, as in
/// run_train.sh. Accelerator visibility variables are never removed.
/// </summary>
internal static partial class EnvScrubber
{
    [GeneratedRegex("^(?:[A-Z0-9]{6}_[0-9]{8}_|KUBERNETES_)", RegexOptions.CultureInvariant)]
    private static partial Regex ForeignJobName();

    public static bool ShouldRemove(string name, string? jobId)
    {
        if (!ForeignJobName().IsMatch(name) || Cluster.Accelerators.VariableNames.Contains(name)) return false;
        string ownPrefix = (jobId ?? "").ToUpperInvariant().Replace('-', '_');
        return ownPrefix.Length == 0 || !name.StartsWith(ownPrefix, StringComparison.Ordinal);
    }
}
