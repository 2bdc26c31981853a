using Microsoft.Extensions.Logging;

namespace TrainLauncher.Cluster;

/// <summary>
/// What the launcher does for the cluster, as plain data: the variables to add to the command's
/// environment and the hostfile to write. Built by <see cref="ClusterLayout.Plan"/>, no side effects
/// until <see cref="WriteHostfile"/>.
/// </summary>
/// <param name="Set">Variables to set, in order; none of them was set before.</param>
/// <param name="Kept">Variables the launcher would set but found already set, with their values.</param>
/// <param name="HostfilePath">Where to write <see cref="HostfileText"/>; null when there is no hostfile.</param>
/// <param name="Notes">Extra lines for the header (why TF_CONFIG or the hostfile is missing).</param>
internal sealed record ClusterPlan(
    ClusterPosition Position,
    IReadOnlyList<string> Sources,
    IReadOnlyList<KeyValuePair<string, string>> Set,
    IReadOnlyList<KeyValuePair<string, string>> Kept,
    string? HostfilePath,
    string HostfileText,
    IReadOnlyList<string> Notes)
{
    /// <summary>Multi-node jobs wait for the master's name to resolve before starting the command.</summary>
    public bool NeedsMasterWait => Position.IsMultiNode;

    public void WriteHostfile()
    {
        if (HostfilePath is null)
            return;
        try
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(HostfilePath));
            if (directory is not null)
                Directory.CreateDirectory(directory);
            File.WriteAllText(HostfilePath, HostfileText);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ClusterLayoutException($"cannot write the hostfile {HostfilePath}: {e.Message}");
        }
    }

    /// <summary>The header's cluster lines as events with fields; the same text as <see cref="Describe"/>.</summary>
    public void Report(ILogger log)
    {
        var p = Position;
        string from = From();
        if (p.IsMultiNode) log.ClusterNode(p.NodeRank, p.NodeCount, from, p.MasterAddress, p.MasterPort, p.ProcessesPerNode);
        else log.ClusterSingleNode(from, p.ProcessesPerNode);
        foreach (var (name, value) in Set) log.ClusterSets(name, value);
        foreach (var (name, value) in Kept) log.ClusterKeeps(name, value);
        foreach (var note in Notes) log.ClusterNote(note);
    }

    /// <summary>Lines for <c>plan</c>.</summary>
    public IEnumerable<string> Describe()
    {
        var p = Position;
        var from = From();
        yield return p.IsMultiNode
            ? $"cluster: node {p.NodeRank} of {p.NodeCount} ({from}), master {p.MasterAddress}:{p.MasterPort}, {p.ProcessesPerNode} process(es) per node"
            : $"cluster: single node ({from}), {p.ProcessesPerNode} process(es) per node";
        foreach (var (name, value) in Set)
            yield return $"cluster: sets {name}={value}";
        foreach (var (name, value) in Kept)
            yield return $"cluster: keeps {name}={value} (already set)";
        foreach (var note in Notes)
            yield return $"cluster: {note}";
    }

    private string From() => Sources.Count > 0 ? $"from {string.Join(", ", Sources)}" : "no platform layout variables";
}
