using System.Text;
using TrainLauncher.Cluster;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Cluster;

/// <summary>Ascend's HCCL rank table: both formats read from real files, malformed ones refused with one line, the auto table.</summary>
public sealed class RankTableSpecs : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Seed(string name) => File.ReadAllText(Path.Combine(Repo.Root, "tests/fuzz/corpus/ranktable", name));

    private static ClusterPosition Node(int rank, int count) => new(rank, count, "10.0.0.1", 29500, 2);

    private RankTablePlan Plan(string table, IReadOnlyList<string> devices, int rank = 0, int count = 2, string[]? names = null, RankTableMode mode = RankTableMode.Auto)
    {
        var env = new Dictionary<string, string>();
        if (table.Length > 0) env["RANK_TABLE_FILE"] = _dir.Write("rank_table.json", table);
        return RankTables.Plan(env, mode, true, devices, "ASCEND_VISIBLE_DEVICES=" + string.Join(',', devices), Node(rank, count),
            [new HostEntry("10.0.0.1", null), new HostEntry("10.0.0.2", null)], names ?? [], _dir["rank-table-0.json"]);
    }

    [Fact]
    public void Version_1_0_gives_every_device_its_server_and_rank()
    {
        var table = RankTable.Parse(Encoding.UTF8.GetBytes(Seed("v1-two-servers")), "t.json");

        Assert.Equal("1.0", table.Format);
        Assert.Equal(["10.0.0.1/0/0", "10.0.0.1/1/1", "10.0.0.2/0/2", "10.0.0.2/1/3"], table.Devices.Select(d => $"{d.ServerId}/{d.DeviceId}/{d.RankId}"));
    }

    [Fact]
    public void Version_0_x_group_list_gives_every_instance_s_device_and_rank()
    {
        var table = RankTable.Parse(Encoding.UTF8.GetBytes(Seed("v0-group-list")), "t.json");

        Assert.Equal("0.x", table.Format);
        Assert.Equal(["10.0.0.1/4/0", "10.0.0.1/5/1", "10.0.0.2/4/2", "10.0.0.2/5/3"], table.Devices.Select(d => $"{d.ServerId}/{d.DeviceId}/{d.RankId}"));
    }

    [Fact]
    public void This_node_is_found_by_server_id_and_gets_its_devices_ranks()
    {
        var plan = Plan(Seed("v1-two-servers"), ["1", "0"], rank: 0, names: ["10.0.0.2"]);

        Assert.Equal([3, 2], plan.LocalRanks);
        Assert.Equal(4, plan.RankSize);
        Assert.Contains(new KeyValuePair<string, string>("RANK_ID", "3"), plan.Set);
        Assert.Contains(new KeyValuePair<string, string>("RANK_SIZE", "4"), plan.Set);
        Assert.Null(plan.WritePath);
    }

    [Fact]
    public void Without_a_matching_server_id_the_node_rank_picks_the_server()
    {
        var plan = Plan(Seed("v0-group-list"), ["4", "5"], rank: 1, names: ["other-host"]);
        Assert.Equal([2, 3], plan.LocalRanks);
    }

    [Fact]
    public void Devices_that_do_not_match_the_visible_ones_are_one_line_naming_both()
    {
        var e = Assert.Throws<ClusterLayoutException>(() => Plan(Seed("v1-two-servers"), ["0", "1", "2"], names: ["10.0.0.1"]));

        Assert.Equal($"RANK_TABLE_FILE={_dir["rank_table.json"]} lists devices 0,1 for this node (server 10.0.0.1) but the visible devices are 0,1,2 (ASCEND_VISIBLE_DEVICES=0,1,2): make them match", e.Message);
    }

    [Fact]
    public void A_table_without_this_node_is_one_line_naming_its_servers()
    {
        var e = Assert.Throws<ClusterLayoutException>(() => Plan(Seed("v1-two-servers"), ["0", "1"], rank: 0, count: 3, names: ["10.9.9.9"]));
        Assert.Contains("has no server_list entry for this node: its servers are 10.0.0.1,10.0.0.2, this node is 10.9.9.9 (node 0 of 3)", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "it is not JSON")]
    [InlineData("{\"server_list\": [", "it is not JSON")]
    [InlineData("[]", "it is not a JSON object")]
    [InlineData("{\"version\": \"1.0\"}", "it has neither server_list (version 1.0) nor group_list (0.x)")]
    [InlineData("{\"server_list\": {}}", "server_list is not a list")]
    [InlineData("{\"server_list\": []}", "it lists no device")]
    [InlineData("{\"server_list\": [{\"device\": []}]}", "a server_list[] entry has no server_id")]
    [InlineData("{\"server_list\": [{\"server_id\": \"a\"}]}", "server a has no device list")]
    [InlineData("{\"server_list\": [{\"server_id\": \"a\", \"device\": [{\"device_id\": \"0\", \"rank_id\": \"-1\"}]}]}", "rank_id '-1' of a device[] entry is not a whole number >= 0")]
    [InlineData("{\"server_list\": [{\"server_id\": \"a\", \"device\": [{\"device_id\": \"0\", \"rank_id\": \"99999999999\"}]}]}", "is not a whole number")]
    [InlineData("{\"server_list\": [{\"server_id\": \"a\", \"device\": [{\"device_id\": null, \"rank_id\": \"0\"}]}]}", "device_id of a device[] entry is a null, not a string")]
    [InlineData("{\"server_list\": [{\"server_id\": \"a\\n[trainlauncher] ok\", \"device\": [{\"device_id\": \"0\", \"rank_id\": \"0\"}]}]}", @"server_id 'a\n[trainlauncher] ok' of a server_list[] entry is empty, too long or has control characters")]
    [InlineData("{\"server_list\": [{\"server_id\": \"\\ud800\", \"device\": [{\"device_id\": \"0\", \"rank_id\": \"0\"}]}]}", "server_id '' of a server_list[] entry is empty")]
    [InlineData("{\"server_list\": [{\"server_id\": \"a\", \"device\": [{\"device_id\": \"0\", \"rank_id\": \"0\"}, {\"device_id\": \"0\", \"rank_id\": \"1\"}]}]}", "device 0 of server a is listed twice")]
    [InlineData("{\"group_list\": [{}]}", "a group_list entry has no instance_list")]
    // names with a lone surrogate escape are names that are not there (they threw when compared)
    [InlineData("{\"server\\ud800_list\": []}", "it has neither server_list")]
    [InlineData("{\"server_list\": [{\"server_id\": \"a\", \"dev\\ud800ice\": []}]}", "server a has no device list")]
    [InlineData("{\"group_list\": [{\"instance_list\": [{\"server_id\": \"a\", \"rank_id\": \"0\", \"devices\": []}]}]}", "instance of rank 0 lists 0 devices")]
    public void A_malformed_table_is_one_line_saying_what_is_wrong(string content, string says)
    {
        var e = Assert.Throws<ClusterLayoutException>(() => Plan(content.Length == 0 ? " " : content, ["0"], names: ["a"]));

        Assert.StartsWith($"RANK_TABLE_FILE={_dir["rank_table.json"]} is not a usable HCCL rank table: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(says, e.Message, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"[\p{Cc}]", e.Message);
    }

    [Fact]
    public void Duplicate_ranks_are_refused()
    {
        var e = Assert.Throws<ClusterLayoutException>(() => Plan(Seed("duplicate-rank"), ["0", "1"], names: ["10.0.0.1"]));
        Assert.EndsWith("rank_id 0 is given to more than one device", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_FIFO_is_one_line_not_a_start_that_waits_for_a_writer()
    {
        string fifo = _dir["table.fifo"];
        System.Diagnostics.Process.Start("mkfifo", [fifo])!.WaitForExit();
        var env = new Dictionary<string, string> { ["RANK_TABLE_FILE"] = fifo };
        var e = Assert.Throws<ClusterLayoutException>(() => RankTables.Plan(env, RankTableMode.Auto, true, ["0"], "x", Node(0, 1), [], [], _dir["t"]));
        Assert.Equal($"RANK_TABLE_FILE={fifo} cannot be read: a FIFO, not a regular file", e.Message);
    }

    [Fact]
    public void A_missing_file_is_one_line()
    {
        var env = new Dictionary<string, string> { ["RANK_TABLE_FILE"] = _dir["nope.json"] };
        var e = Assert.Throws<ClusterLayoutException>(() => RankTables.Plan(env, RankTableMode.Auto, true, ["0"], "x", Node(0, 1), [], [], _dir["t"]));
        Assert.StartsWith($"RANK_TABLE_FILE={_dir["nope.json"]} cannot be read: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_multi_node_Ascend_job_without_a_table_gets_a_1_0_table_that_reads_back()
    {
        var plan = Plan("", ["0", "1"], rank: 1);

        Assert.Equal(_dir["rank-table-0.json"], plan.WritePath);
        Assert.Contains(new KeyValuePair<string, string>("RANK_TABLE_FILE", _dir["rank-table-0.json"]), plan.Set);
        Assert.Contains(new KeyValuePair<string, string>("RANK_ID", "2"), plan.Set);
        Assert.Contains(new KeyValuePair<string, string>("RANK_SIZE", "4"), plan.Set);
        var back = RankTable.Parse(Encoding.UTF8.GetBytes(plan.Text), "auto");
        Assert.Equal("1.0", back.Format);
        Assert.Equal(["10.0.0.1/0/0", "10.0.0.1/1/1", "10.0.0.2/0/2", "10.0.0.2/1/3"], back.Devices.Select(d => $"{d.ServerId}/{d.DeviceId}/{d.RankId}"));
    }

    [Fact]
    public void Off_single_node_or_no_devices_write_no_table()
    {
        Assert.Same(RankTablePlan.None, Plan("", ["0", "1"], mode: RankTableMode.Off));
        Assert.Same(RankTablePlan.None, Plan("", ["0", "1"], count: 1));
        Assert.Same(RankTablePlan.None, Plan("", [], rank: 1));
    }
}
