using System.Globalization;
using TrainLauncher.Output;

namespace TrainLauncher.Cluster;

/// <summary>
/// Ascend's HCCL rank table for this node: a table given in <c>RANK_TABLE_FILE</c> is read and
/// checked against the visible devices (this node's entry, found by server_id, must list exactly
/// them); a multi-node Ascend job without one gets a 1.0 table written from the host list
/// (<c>--rank-table auto</c>). RANK_ID (this node's first device's rank) and RANK_SIZE come from
/// the table, never overriding a value that is set.
/// </summary>
internal static class RankTables
{
    public const string RankId = "RANK_ID";
    public const string RankSize = "RANK_SIZE";

    /// <param name="deviceIds">The visible devices' physical ids (after --gpus), in visible order.</param>
    /// <param name="deviceSource">How they were made visible, for the mismatch line (e.g. "ASCEND_VISIBLE_DEVICES=0,1").</param>
    /// <param name="localNames">Names this node goes by: its host in the host list, its host name, its addresses.</param>
    /// <exception cref="ClusterLayoutException">a bad table, or one that does not match this node's devices.</exception>
    public static RankTablePlan Plan(
        IReadOnlyDictionary<string, string> environment,
        RankTableMode mode,
        bool ascend,
        IReadOnlyList<string> deviceIds,
        string deviceSource,
        ClusterPosition position,
        IReadOnlyList<HostEntry> hosts,
        IReadOnlyCollection<string> localNames,
        string writePath)
    {
        if (PlatformLayout.Value(environment, RankTable.Variable) is { } path)
        {
            var table = RankTable.Read(path);
            var ranks = LocalRanks(table, path, deviceIds, deviceSource, position, localNames);
            return WithRanks(environment, [], ranks, table.Devices.Count, null, "",
                $"rank table {OneLine.Escape(path)} (format {table.Format}): this node's devices have ranks {string.Join(',', ranks)} of {table.Devices.Count}");
        }
        if (mode == RankTableMode.Off || !ascend || !position.IsMultiNode || deviceIds.Count == 0 || hosts.Count != position.NodeCount)
            return RankTablePlan.None;

        var servers = hosts.Select(h => h.Host).ToList();
        var local = Enumerable.Range(position.NodeRank * deviceIds.Count, deviceIds.Count).ToList();
        return WithRanks(environment, [new(RankTable.Variable, writePath)], local, servers.Count * deviceIds.Count, writePath,
            RankTable.Write(servers, deviceIds), null);
    }

    private static RankTablePlan WithRanks(
        IReadOnlyDictionary<string, string> environment, List<KeyValuePair<string, string>> wanted, IReadOnlyList<int> ranks, int size,
        string? writePath, string text, string? note)
    {
        wanted.Add(new(RankId, ranks[0].ToString(CultureInfo.InvariantCulture)));
        wanted.Add(new(RankSize, size.ToString(CultureInfo.InvariantCulture)));
        var (set, kept) = ClusterLayout.SetOrKept(environment, wanted);
        return new RankTablePlan(set, kept, ranks, size, writePath, text, note);
    }

    private static List<int> LocalRanks(
        RankTable table, string path, IReadOnlyList<string> deviceIds, string deviceSource, ClusterPosition position, IReadOnlyCollection<string> localNames)
    {
        var servers = table.Servers;
        // By server_id (the host's IP on ModelArts); else, when the table lists one server per
        // node, by position; a one-server table is a single node's.
        string? server = servers.FirstOrDefault(s => localNames.Contains(s, StringComparer.OrdinalIgnoreCase))
            ?? (servers.Count == position.NodeCount ? servers[position.NodeRank] : null)
            ?? throw new ClusterLayoutException(
                $"{RankTable.Variable}={OneLine.Escape(path)} has no server_list entry for this node: its servers are {Shown(servers)}, this node is {Shown(localNames.ToList())} (node {position.NodeRank} of {position.NodeCount})");

        var listed = table.Devices.Where(d => d.ServerId == server).ToList();
        var listedIds = listed.Select(d => d.DeviceId).ToList();
        if (!listedIds.Order(StringComparer.Ordinal).SequenceEqual(deviceIds.Order(StringComparer.Ordinal), StringComparer.Ordinal))
            throw new ClusterLayoutException(
                $"{RankTable.Variable}={OneLine.Escape(path)} lists devices {Shown(listedIds)} for this node (server {OneLine.Escape(server)}) but the visible devices are {Shown(deviceIds)} ({OneLine.Escape(deviceSource)}): make them match");
        return deviceIds.Select(id => listed.First(d => d.DeviceId == id).RankId).ToList();
    }

    private static string Shown(IReadOnlyList<string> values) =>
        values.Count == 0 ? "none" : OneLine.Escape(string.Join(',', values.Take(16)) + (values.Count > 16 ? ",..." : ""));
}
