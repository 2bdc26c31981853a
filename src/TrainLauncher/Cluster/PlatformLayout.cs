using System.Globalization;
using System.Text.RegularExpressions;
using TrainLauncher.Output;

namespace TrainLauncher.Cluster;

/// <summary>
/// This node's place in the job as the platform variables describe it (SPEC 9): ModelArts'
/// DLS_TASK_INDEX/DLS_TASK_NUMBER/BATCH_CUSTOM&lt;i&gt;_HOSTS, Volcano's VC_TASK_INDEX and
/// VC_&lt;TASK&gt;_HOSTS/VC_&lt;TASK&gt;_NUM, MA_NUM_HOSTS. Every source that is set must agree.
/// Empty values count as unset (job templates often export empty variables).
/// </summary>
/// <param name="Hosts">One entry per node in rank order; empty when the platform lists none.</param>
/// <param name="Sources">The variables the layout came from, for the header.</param>
internal sealed partial record PlatformLayout(int Rank, int Count, IReadOnlyList<HostEntry> Hosts, IReadOnlyList<string> Sources)
{
    private const string BatchHostsFamily = "BATCH_CUSTOM<i>_HOSTS";
    private const string TaskIndexVariable = "DLS_TASK_INDEX";

    /// <summary>A value one source gives for the rank or the node count, and how to name it.</summary>
    private sealed record Fact(string Shown, int Value);

    public static PlatformLayout Read(IReadOnlyDictionary<string, string> environment)
    {
        var sources = new List<string>();
        var ranks = new List<Fact>();
        var counts = new List<Fact>();

        if (Value(environment, TaskIndexVariable) is { } taskIndex)
        {
            ranks.Add(new Fact($"{TaskIndexVariable}={taskIndex}", TaskIndex(environment)));
            sources.Add(TaskIndexVariable);
        }
        AddNumber(environment, "DLS_TASK_NUMBER", 1, counts, sources);
        AddNumber(environment, "MA_NUM_HOSTS", 1, counts, sources);
        var volcano = VolcanoJob.Read(environment);
        if (volcano.Tasks.Count > 0)
        {
            sources.AddRange(volcano.Variables);
            counts.Add(new Fact(volcano.CountShown, volcano.Count));
        }

        var count = Agree(counts, "node count");
        var countShown = counts.Count > 0 ? counts[0].Shown : "the default";

        var batch = ReadBatchHosts(environment);
        if (batch is not null)
        {
            sources.Add(BatchHostsFamily);
            if (count is null)
            {
                count = batch.Count;
                countShown = $"{BatchHostsFamily} ({count} hosts)";
            }
            if (batch.Count < count)
                throw new ClusterLayoutException(
                    $"BATCH_CUSTOM{batch.Count}_HOSTS is missing: {countShown} needs one host per node; fix the job's host list");
            if (batch.Count > count)
                throw new ClusterLayoutException(
                    $"{BatchHostsFamily} lists {batch.Count} hosts but {countShown}: the sources disagree; fix the node count or the host list");
        }
        // Volcano's lists already agree with the count: their lengths are one of the counts.
        var hosts = batch ?? volcano.Hosts ?? [];
        var nodes = count ?? 1;

        if (volcano.Tasks.Count > 1)
        {
            var (rank, shown) = volcano.RankByHostName(environment);
            ranks.Add(new Fact(shown, rank));
            sources.Add("HOSTNAME");
        }
        else
        {
            AddNumber(environment, "VC_TASK_INDEX", 0, ranks, sources);
        }
        var nodeRank = Agree(ranks, "node rank") ?? 0;
        if (ranks.Count > 0 && nodeRank >= nodes)
            throw new ClusterLayoutException(
                $"{ranks[0].Shown} is not below the node count {nodes} ({countShown}): fix the node index or the node count");

        if (nodes > 1 && hosts.Count == 0)
            throw new ClusterLayoutException(
                $"{countShown} but no host list: set {BatchHostsFamily} (host:port) or VC_WORKER_HOSTS for every node");

        return new PlatformLayout(nodeRank, nodes, hosts, sources.Distinct().ToList());
    }

    /// <summary>DLS_TASK_INDEX (default 0), parsed here only: the node rank, and the index in the
    /// default log file's and the hostfile's names.</summary>
    /// <exception cref="ClusterLayoutException">not a whole number</exception>
    public static int TaskIndex(IReadOnlyDictionary<string, string> environment) =>
        Value(environment, TaskIndexVariable) is not { } text ? 0
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index
        : throw new ClusterLayoutException($"{TaskIndexVariable} must be a whole number >= 0, got '{OneLine.Escape(text)}'");

    private static int? Agree(List<Fact> facts, string what)
    {
        foreach (var fact in facts.Skip(1))
        {
            if (fact.Value != facts[0].Value)
                throw new ClusterLayoutException(
                    $"{fact.Shown} disagrees with {facts[0].Shown} on the {what}: unset one or make them equal");
        }
        return facts.Count > 0 ? facts[0].Value : null;
    }

    private static void AddNumber(
        IReadOnlyDictionary<string, string> environment, string name, int minimum, List<Fact> facts, List<string> sources)
    {
        if (Value(environment, name) is not { } text)
            return;
        facts.Add(new Fact($"{name}={OneLine.Escape(text)}", Number(name, text, minimum)));
        sources.Add(name);
    }

    internal static int Number(string name, string text, int minimum)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < minimum)
            throw new ClusterLayoutException(
                $"{name}={OneLine.Escape(text)} is not a whole number of at least {minimum}: fix or unset it");
        return value;
    }

    internal static string? Value(IReadOnlyDictionary<string, string> environment, string name) =>
        environment.TryGetValue(name, out var value) && value.Trim().Length > 0 ? value.Trim() : null;

    /// <summary>BATCH_CUSTOM0_HOSTS, BATCH_CUSTOM1_HOSTS, ... one host:port each, without gaps.</summary>
    private static List<HostEntry>? ReadBatchHosts(IReadOnlyDictionary<string, string> environment)
    {
        var byIndex = new SortedDictionary<int, HostEntry>();
        foreach (var (name, raw) in environment)
        {
            var match = BatchHostsName().Match(name);
            if (!match.Success || Value(environment, name) is not { } text)
                continue;
            var index = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            byIndex[index] = HostEntry.TryParse(text)
                ?? throw new ClusterLayoutException($"{OneLine.Escape(name)}={OneLine.Escape(raw)} is malformed: expected host:port with a port 1..65535");
        }
        if (byIndex.Count == 0)
            return null;

        var hosts = new List<HostEntry>();
        for (var i = 0; i <= byIndex.Keys.Max(); i++)
        {
            if (!byIndex.TryGetValue(i, out var host))
                throw new ClusterLayoutException(
                    $"BATCH_CUSTOM{i}_HOSTS is missing while BATCH_CUSTOM{byIndex.Keys.Max()}_HOSTS is set: the platform must list host:port for every node");
            hosts.Add(host);
        }
        return hosts;
    }

    // \z, not $: $ also matches before a final newline, and a variable name may end in one.
    [GeneratedRegex(@"^BATCH_CUSTOM([0-9]{1,6})_HOSTS\z")]
    private static partial Regex BatchHostsName();
}
