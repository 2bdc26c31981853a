using Microsoft.Extensions.Logging;

namespace TrainLauncher.Cluster;

/// <summary>
/// What the launcher does with HCCL's rank table, as plain data (describe first, act later):
/// the variables to set (RANK_TABLE_FILE for a table it writes, RANK_ID/RANK_SIZE), the table
/// to write, and this node's devices' global ranks (for <c>--per-device</c> workers).
/// </summary>
/// <param name="LocalRanks">Global rank of each visible device of this node, in visible order; empty without a table.</param>
/// <param name="RankSize">Devices in the whole table; 0 without a table.</param>
/// <param name="WritePath">Where <see cref="Text"/> goes; null when nothing is written.</param>
internal sealed record RankTablePlan(
    IReadOnlyList<KeyValuePair<string, string>> Set,
    IReadOnlyList<KeyValuePair<string, string>> Kept,
    IReadOnlyList<int> LocalRanks,
    int RankSize,
    string? WritePath,
    string Text,
    string? Note)
{
    public static RankTablePlan None { get; } = new([], [], [], 0, null, "", null);

    public void Write()
    {
        if (WritePath is null) return;
        try
        {
            File.WriteAllText(WritePath, Text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ClusterLayoutException($"cannot write the rank table {WritePath}: {Output.OneLine.Escape(e.Message)}");
        }
    }

    public void Report(ILogger log)
    {
        if (Note is not null) log.ClusterNote(Note);
        foreach (var (name, value) in Set) log.ClusterSets(name, value);
        foreach (var (name, value) in Kept) log.ClusterKeeps(name, value);
    }

    public IEnumerable<string> Describe()
    {
        if (Note is not null) yield return $"cluster: {Note}";
        foreach (var (name, value) in Set) yield return $"cluster: sets {name}={value}";
        foreach (var (name, value) in Kept) yield return $"cluster: keeps {name}={value} (already set)";
    }
}
