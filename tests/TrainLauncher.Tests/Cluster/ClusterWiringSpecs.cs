using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Cluster;

/// <summary>
/// The cluster step inside a real launcher run (SPEC 9), with the dummy program instead of
/// torch: what the command's environment holds, the hostfile, <c>--gpus</c>, the refusals
/// with 125, the master wait and <c>plan</c>.
/// </summary>
public sealed class ClusterWiringSpecs : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // Each test's hostfile goes to its own temp dir (the launcher writes it under TMPDIR), so
    // tests running in parallel never share /tmp/trainlauncher-hostfile-<N>.
    private LauncherRun Run(string env = "")
    {
        var run = new LauncherRun(_dir).Set("TMPDIR", _dir["tmp"]);
        foreach (var (name, value) in EnvText.Parse(env)) run.Set(name, value);
        return run;
    }

    /// <summary>node 1 of 2: the master is localhost (it resolves), node 1 is 127.0.0.1.</summary>
    private static string TwoNodes(int port) =>
        $"DLS_TASK_INDEX=1 DLS_TASK_NUMBER=2 BATCH_CUSTOM0_HOSTS=localhost:{port} BATCH_CUSTOM1_HOSTS=127.0.0.1:{port + 1}";

    /// <summary>The command's environment as dummy.py env printed it.</summary>
    private static Dictionary<string, string> CommandEnv(LauncherResult result) =>
        result.Stdout.Split('\n')
            .Where(l => l.Length > 0 && !l.StartsWith("[trainlauncher]", StringComparison.Ordinal))
            .Select(l => l.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);

    private static string ErrorLine(LauncherResult result) =>
        Assert.Single(result.Messages, l => l.StartsWith("[trainlauncher] error: ", StringComparison.Ordinal));

    [Fact]
    public async Task A_single_node_command_sees_the_local_layout()
    {
        var result = await Run().Dummy("env").RunAsync();

        Assert.Equal(0, result.ExitCode);
        var env = CommandEnv(result);
        Assert.Equal("127.0.0.1", env["MASTER_ADDR"]);
        Assert.Equal("29500", env["MASTER_PORT"]);
        Assert.Equal("1", env["NNODES"]);
        Assert.Equal("0", env["NODE_RANK"]);
        Assert.Equal("1", env["NPROC_PER_NODE"]);
        Assert.Equal("1", env["WORLD_SIZE"]);
        Assert.Equal("0", env["RANK"]);
        Assert.Equal("0", env["LOCAL_RANK"]);
        Assert.Equal("1", env["LOCAL_WORLD_SIZE"]);
        Assert.Equal("127.0.0.1", env["PET_MASTER_ADDR"]);
        Assert.Equal("29500", env["PET_MASTER_PORT"]);
        Assert.Equal("1", env["PET_NNODES"]);
        Assert.Equal("0", env["PET_NODE_RANK"]);
        Assert.Equal("1", env["PET_NPROC_PER_NODE"]);
        Assert.False(env.ContainsKey("TF_CONFIG"));
        Assert.False(env.ContainsKey("TRAINLAUNCHER_HOSTFILE"));
        Assert.Contains("[trainlauncher] cluster: single node (no platform layout variables), 1 process(es) per node", result.Messages);
    }

    [Fact]
    public async Task A_node_of_a_two_node_job_sees_its_rank_the_master_TF_CONFIG_and_a_hostfile()
    {
        int port = Http.FreePort();
        var result = await Run(TwoNodes(port)).Dummy("env").RunAsync();

        Assert.Equal(0, result.ExitCode);
        var env = CommandEnv(result);
        Assert.Equal("localhost", env["MASTER_ADDR"]);
        Assert.Equal($"{port}", env["MASTER_PORT"]);
        Assert.Equal("2", env["NNODES"]);
        Assert.Equal("1", env["NODE_RANK"]);
        Assert.Equal("2", env["WORLD_SIZE"]);
        Assert.Equal("1", env["RANK"]);
        Assert.Equal("2", env["PET_NNODES"]);
        Assert.Equal("1", env["PET_NODE_RANK"]);
        Assert.Equal($"{port}", env["PET_MASTER_PORT"]);
        Assert.Equal(
            $$$"""{"cluster":{"worker":["localhost:{{{port}}}","127.0.0.1:{{{port + 1}}}"]},"task":{"type":"worker","index":1}}""",
            env["TF_CONFIG"]);

        var hostfile = env["TRAINLAUNCHER_HOSTFILE"];
        Assert.Equal(Path.Combine(_dir["tmp"], "trainlauncher-hostfile-1"), hostfile);
        Assert.Equal("localhost slots=1\n127.0.0.1 slots=1\n", File.ReadAllText(hostfile));
        Assert.Contains(
            $"[trainlauncher] cluster: node 1 of 2 (from DLS_TASK_INDEX, DLS_TASK_NUMBER, BATCH_CUSTOM<i>_HOSTS), master localhost:{port}, 1 process(es) per node",
            result.Messages);
    }

    [Fact]
    public async Task A_LOCAL_RANK_already_set_is_kept_for_the_single_process()
    {
        var result = await Run("LOCAL_RANK=5 LOCAL_WORLD_SIZE=6").Dummy("env").RunAsync();

        Assert.Equal(0, result.ExitCode);
        var env = CommandEnv(result);
        Assert.Equal("5", env["LOCAL_RANK"]);
        Assert.Equal("6", env["LOCAL_WORLD_SIZE"]);
        Assert.Contains("[trainlauncher] cluster: keeps LOCAL_RANK=5 (already set)", result.Messages);
    }

    [Fact]
    public async Task The_user_s_own_MASTER_PORT_wins_and_PET_MASTER_PORT_follows_it()
    {
        int port = Http.FreePort();
        var result = await Run(TwoNodes(port) + " MASTER_PORT=23456").Dummy("env").RunAsync();

        Assert.Equal(0, result.ExitCode);
        var env = CommandEnv(result);
        Assert.Equal("23456", env["MASTER_PORT"]);
        Assert.Equal("23456", env["PET_MASTER_PORT"]);
        Assert.Contains("[trainlauncher] cluster: keeps MASTER_PORT=23456 (already set)", result.Messages);
        Assert.Contains("[trainlauncher] cluster: sets PET_MASTER_PORT=23456", result.Messages);
    }

    [Fact]
    public async Task An_empty_variable_counts_as_unset_and_gets_the_value_the_header_shows()
    {
        var result = await Run().Set("MASTER_ADDR", "").Set("NNODES", " ").Dummy("env").RunAsync();

        Assert.Equal(0, result.ExitCode);
        var env = CommandEnv(result);
        Assert.Equal("127.0.0.1", env["MASTER_ADDR"]);
        Assert.Equal("1", env["NNODES"]);
        Assert.Contains("[trainlauncher] cluster: sets MASTER_ADDR=127.0.0.1", result.Messages);
    }

    [Fact]
    public async Task Gpus_restricts_the_command_to_those_indexes_of_the_visible_devices()
    {
        var result = await Run("CUDA_VISIBLE_DEVICES=4,5,6").Args("--gpus", "0,2").Dummy("env").RunAsync();

        Assert.Equal(0, result.ExitCode);
        var env = CommandEnv(result);
        Assert.Equal("4,6", env["CUDA_VISIBLE_DEVICES"]);
        Assert.Equal("2", env["NPROC_PER_NODE"]);
        Assert.Equal("2", env["PET_NPROC_PER_NODE"]);
        Assert.Contains("[trainlauncher] --gpus sets CUDA_VISIBLE_DEVICES=4,6", result.Messages);
    }

    [Fact]
    public async Task Device_dir_is_where_all_counts_the_device_nodes()
    {
        foreach (var name in new[] { "nvidia0", "nvidia1", "nvidia2", "nvidia3", "nvidiactl" })
            _dir.Write($"dev/{name}", "");
        var result = await Run("NVIDIA_VISIBLE_DEVICES=all").Args("--device-dir", _dir["dev"], "--gpus", "1,3").Dummy("env").RunAsync();

        Assert.Equal(0, result.ExitCode);
        var env = CommandEnv(result);
        Assert.Equal("all", env["NVIDIA_VISIBLE_DEVICES"]);
        Assert.Equal("1,3", env["CUDA_VISIBLE_DEVICES"]);
        Assert.Equal("2", env["NPROC_PER_NODE"]);
        Assert.Contains("[trainlauncher] accelerators: NVIDIA 4 visible (NVIDIA_VISIBLE_DEVICES=all: 0,1,2,3); Ascend none", result.Messages);
    }

    [Theory]
    [InlineData("CUDA_VISIBLE_DEVICES=4,5,6", "--gpus 5", "--gpus 5: index 5 is out of range, NVIDIA 3 visible (CUDA_VISIBLE_DEVICES=4,5,6); use 0..2")]
    [InlineData("CUDA_VISIBLE_DEVICES=4,5,6", "--gpus 0,0", "--gpus 0,0: index 0 is given twice")]
    [InlineData("CUDA_VISIBLE_DEVICES=4,5,6", "--gpus a", "--gpus a: 'a' is not a device index")]
    [InlineData("", "--gpus 0", "--gpus 0: no accelerator is visible")]
    [InlineData("CUDA_VISIBLE_DEVICES=0,,1", "", "CUDA_VISIBLE_DEVICES=0,,1 has an empty or blank entry")]
    [InlineData("DLS_TASK_INDEX=2 DLS_TASK_NUMBER=2", "", "DLS_TASK_INDEX=2 is not below the node count 2 (DLS_TASK_NUMBER=2)")]
    [InlineData("DLS_TASK_INDEX=0 DLS_TASK_NUMBER=2 BATCH_CUSTOM0_HOSTS=127.0.0.1:1", "", "BATCH_CUSTOM1_HOSTS is missing")]
    [InlineData("DLS_TASK_NUMBER=2 BATCH_CUSTOM0_HOSTS=a:1 BATCH_CUSTOM1_HOSTS=b:x", "", "BATCH_CUSTOM1_HOSTS=b:x is malformed")]
    [InlineData("VC_TASK_INDEX=1 DLS_TASK_INDEX=0 DLS_TASK_NUMBER=2", "", "VC_TASK_INDEX=1 disagrees with DLS_TASK_INDEX=0")]
    [InlineData("MASTER_PORT=99999", "", "MASTER_PORT=99999 is not a port number")]
    [InlineData("NNODES=two", "", "NNODES=two is not a whole number")]
    [InlineData("", "--tf-port 70000", "--tf-port must be a port number 1..65535, got '70000'")]
    [InlineData("", "--wait-hosts soon", "--wait-hosts must be a number of seconds >= 0, got 'soon'")]
    [InlineData("", "--rank-table always", "--rank-table must be auto or off, got 'always'")]
    [InlineData("TRAINLAUNCHER_RANK_TABLE=on", "", "TRAINLAUNCHER_RANK_TABLE must be auto or off, got 'on'")]
    public async Task A_bad_layout_or_option_gives_125_with_one_line_naming_it_and_the_command_never_runs(string env, string options, string reason)
    {
        var marker = _dir["ran"];
        var result = await Run(env).Args(options.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Args("--shell", "touch", marker).RunAsync();

        Assert.Equal(125, result.ExitCode);
        Assert.StartsWith("[trainlauncher] error: " + reason, ErrorLine(result), StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
    }

    private string RankTable() => File.ReadAllText(Path.Combine(Repo.Root, "tests/fuzz/corpus/ranktable/v1-two-servers"));

    [Fact]
    public async Task A_mounted_rank_table_gives_RANK_ID_and_RANK_SIZE_of_this_node_s_first_device()
    {
        var table = _dir.Write("rank_table.json", RankTable());
        var result = await Run($"ASCEND_VISIBLE_DEVICES=0,1 RANK_TABLE_FILE={table} DLS_TASK_INDEX=1 DLS_TASK_NUMBER=2 BATCH_CUSTOM0_HOSTS=localhost BATCH_CUSTOM1_HOSTS=10.0.0.2")
            .Dummy("env").RunAsync();

        Assert.Equal(0, result.ExitCode);
        var env = CommandEnv(result);
        Assert.Equal("2", env["RANK_ID"]);
        Assert.Equal("4", env["RANK_SIZE"]);
        Assert.Equal(table, env["RANK_TABLE_FILE"]);
        Assert.Contains($"[trainlauncher] cluster: rank table {table} (format 1.0): this node's devices have ranks 2,3 of 4", result.Messages);
    }

    [Fact]
    public async Task A_rank_table_that_does_not_match_the_visible_devices_gives_125_naming_both()
    {
        var table = _dir.Write("rank_table.json", RankTable());
        var marker = _dir["ran"];
        var result = await Run($"ASCEND_VISIBLE_DEVICES=0,1,2,3 RANK_TABLE_FILE={table} DLS_TASK_INDEX=0 DLS_TASK_NUMBER=2 BATCH_CUSTOM0_HOSTS=10.0.0.1 BATCH_CUSTOM1_HOSTS=10.0.0.2")
            .Args("--shell", "touch", marker).RunAsync();

        Assert.Equal(125, result.ExitCode);
        Assert.Equal($"[trainlauncher] error: RANK_TABLE_FILE={table} lists devices 0,1 for this node (server 10.0.0.1) but the visible devices are 0,1,2,3 (Ascend 4 visible (ASCEND_VISIBLE_DEVICES=0,1,2,3)): make them match", ErrorLine(result));
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task A_multi_node_Ascend_job_without_a_table_gets_one_in_the_job_dir()
    {
        int port = Http.FreePort();
        var result = await Run("ASCEND_VISIBLE_DEVICES=0,1 " + TwoNodes(port)).Dummy("env").RunAsync();

        Assert.Equal(0, result.ExitCode);
        var env = CommandEnv(result);
        var path = _dir["home/user-job-dir/rank-table-1.json"];
        Assert.Equal(path, env["RANK_TABLE_FILE"]);
        Assert.Equal("2", env["RANK_ID"]);
        Assert.Equal("4", env["RANK_SIZE"]);
        var table = TrainLauncher.Cluster.RankTable.Read(path);
        Assert.Equal(["localhost/0/0", "localhost/1/1", "127.0.0.1/0/2", "127.0.0.1/1/3"], table.Devices.Select(d => $"{d.ServerId}/{d.DeviceId}/{d.RankId}"));
    }

    [Fact]
    public async Task Rank_table_off_writes_none()
    {
        int port = Http.FreePort();
        var result = await Run("ASCEND_VISIBLE_DEVICES=0,1 " + TwoNodes(port)).Args("--rank-table", "off").Dummy("env").RunAsync();

        Assert.Equal(0, result.ExitCode);
        Assert.False(CommandEnv(result).ContainsKey("RANK_TABLE_FILE"));
        Assert.False(File.Exists(_dir["home/user-job-dir/rank-table-1.json"]));
    }

    [Fact]
    public async Task An_unresolvable_master_gives_125_naming_the_host_after_wait_hosts()
    {
        var marker = _dir["ran"];
        var result = await Run("DLS_TASK_INDEX=1 DLS_TASK_NUMBER=2 BATCH_CUSTOM0_HOSTS=no-such-host.invalid:1234 BATCH_CUSTOM1_HOSTS=127.0.0.1:1")
            .Args("--wait-hosts", "1", "--shell", "touch", marker).RunAsync();

        Assert.Equal(125, result.ExitCode);
        Assert.Contains(result.Messages, l => l.StartsWith("[trainlauncher] waiting up to 1 s for the master no-such-host.invalid to resolve", StringComparison.Ordinal));
        Assert.StartsWith("[trainlauncher] error: master host no-such-host.invalid (MASTER_ADDR) did not resolve within 1 s", ErrorLine(result), StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task Plan_shows_the_cluster_lines_and_writes_no_hostfile()
    {
        int port = Http.FreePort();
        var result = await Run(TwoNodes(port)).Args("plan").Dummy("env").RunAsync();

        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        Assert.Contains($"cluster: node 1 of 2 (from DLS_TASK_INDEX, DLS_TASK_NUMBER, BATCH_CUSTOM<i>_HOSTS), master localhost:{port}, 1 process(es) per node", lines);
        Assert.Contains("cluster: sets NODE_RANK=1", lines);
        Assert.Contains("cluster: sets LOCAL_RANK=0", lines);
        Assert.Contains("cluster: sets LOCAL_WORLD_SIZE=1", lines);
        Assert.Contains($"cluster: sets PET_MASTER_PORT={port}", lines);
        Assert.Contains($"cluster: sets TRAINLAUNCHER_HOSTFILE={_dir["tmp"]}/trainlauncher-hostfile-1", lines);
        Assert.Contains("accelerators: NVIDIA none; Ascend none", lines);
        Assert.Contains("  + MASTER_ADDR=localhost", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("PATH=", StringComparison.Ordinal)); // the command did not run
        Assert.False(File.Exists(_dir["tmp/trainlauncher-hostfile-1"]));
    }
}
