using System.Text.RegularExpressions;
using TrainLauncher.Output;

namespace TrainLauncher.Cluster;

/// <summary>
/// Volcano's svc plugin exports, per task of the job, VC_&lt;TASK&gt;_HOSTS (comma-separated
/// <c>pod.subdomain</c> names) and VC_&lt;TASK&gt;_NUM. A job may have several tasks (master +
/// worker): nodes are then numbered MASTER first, the other tasks by name, and this node is
/// found by its host name, since VC_TASK_INDEX only counts within its own task.
/// </summary>
internal sealed partial record VolcanoJob(IReadOnlyList<VolcanoJob.VolcanoTask> Tasks)
{
    /// <param name="Hosts">Null when only VC_&lt;TASK&gt;_NUM is set.</param>
    /// <param name="NumberSet">Whether VC_&lt;TASK&gt;_NUM gave the count (else the host list did).</param>
    internal sealed record VolcanoTask(string Name, int Count, IReadOnlyList<HostEntry>? Hosts, bool NumberSet)
    {
        public string CountShown => NumberSet ? $"VC_{Name}_NUM={Count}" : $"VC_{Name}_HOSTS ({Count} hosts)";
    }

    public int Count => Tasks.Sum(t => t.Count);

    public IEnumerable<string> Variables => Tasks.SelectMany(t =>
        (t.Hosts is null ? [] : new[] { $"VC_{t.Name}_HOSTS" }).Concat(t.NumberSet ? [$"VC_{t.Name}_NUM"] : []));

    public string CountShown => string.Join(" + ", Tasks.Select(t => t.CountShown));

    public string HostsShown => string.Join(" + ", Tasks.Select(t => $"VC_{t.Name}_HOSTS"));

    /// <summary>All tasks' hosts in node order, or null when a task has no host list.</summary>
    public IReadOnlyList<HostEntry>? Hosts =>
        Tasks.Count > 0 && Tasks.All(t => t.Hosts is not null) ? Tasks.SelectMany(t => t.Hosts!).ToList() : null;

    public static VolcanoJob Read(IReadOnlyDictionary<string, string> environment)
    {
        var names = environment.Keys
            .Select(k => TaskVariable().Match(k))
            .Where(m => m.Success && PlatformLayout.Value(environment, m.Value) is not null)
            .Select(m => m.Groups[1].Value)
            .Distinct()
            .OrderBy(n => n == "MASTER" ? 0 : 1)
            .ThenBy(n => n, StringComparer.Ordinal);

        var tasks = new List<VolcanoTask>();
        foreach (var name in names)
        {
            var hosts = PlatformLayout.Value(environment, $"VC_{name}_HOSTS") is { } list ? ParseHosts($"VC_{name}_HOSTS", list) : null;
            var numName = $"VC_{name}_NUM";
            int? number = PlatformLayout.Value(environment, numName) is { } text ? PlatformLayout.Number(numName, text, 0) : null;
            if (hosts is not null && number is not null && hosts.Count != number)
                throw new ClusterLayoutException(
                    $"VC_{name}_HOSTS lists {hosts.Count} hosts but {numName}={number}: the sources disagree; fix the job's task spec");
            var count = number ?? hosts!.Count;
            if (count > 0)
                tasks.Add(new VolcanoTask(name, count, hosts, number is not null));
        }
        var job = new VolcanoJob(tasks);
        if (tasks.Sum(t => (long)t.Count) is var total and > int.MaxValue)
            throw new ClusterLayoutException($"{job.CountShown} add up to {total} nodes: fix the task counts");
        return job;
    }

    /// <summary>With several tasks: this node's rank is its host name's place in the combined list.</summary>
    public (int Rank, string Shown) RankByHostName(IReadOnlyDictionary<string, string> environment)
    {
        var hosts = Hosts ?? throw new ClusterLayoutException(
            $"{string.Join(", ", Tasks.Where(t => t.Hosts is null).Select(t => $"VC_{t.Name}_HOSTS"))} is missing: with several Volcano tasks every task needs its host list (enable the svc plugin)");
        var hostName = PlatformLayout.Value(environment, "HOSTNAME") ?? throw new ClusterLayoutException(
            $"HOSTNAME is not set: with several Volcano tasks ({HostsShown}) the node is found by its host name");
        var shortName = FirstLabel(hostName);
        for (var rank = 0; rank < hosts.Count; rank++)
        {
            if (string.Equals(FirstLabel(hosts[rank].Host), shortName, StringComparison.OrdinalIgnoreCase))
                return (rank, $"HOSTNAME={OneLine.Escape(hostName)} (node {rank} of {HostsShown})");
        }
        throw new ClusterLayoutException(
            $"HOSTNAME={OneLine.Escape(hostName)} is not in {HostsShown}: with several Volcano tasks the node is found by its host name; check the job's hostname/subdomain");
    }

    private static string FirstLabel(string host) => host.Split('.')[0];

    private static List<HostEntry> ParseHosts(string name, string list)
    {
        var hosts = new List<HostEntry>();
        foreach (var entry in list.Split(','))
        {
            hosts.Add(HostEntry.TryParse(entry.Trim()) ?? throw new ClusterLayoutException(
                $"{name}={OneLine.Escape(list)} has a malformed entry '{OneLine.Escape(entry.Trim())}': expected comma-separated host or host:port"));
        }
        return hosts;
    }

    [GeneratedRegex(@"^VC_([A-Z0-9_]+?)_(?:HOSTS|NUM)\z")] // \z: see PlatformLayout
    private static partial Regex TaskVariable();
}
