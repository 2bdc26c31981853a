using TrainLauncher.Cluster;

namespace TrainLauncher.Tests.Cluster;

public sealed class ClusterLayoutSpecs
{
    private const string Hostfile = "/tmp/trainlauncher-hostfile";

    private static ClusterPlan Plan(string env, int accelerators = 0, int tfPort = ClusterLayout.DefaultTfPort) =>
        ClusterLayout.Plan(EnvText.Parse(env), accelerators, Hostfile, tfPort);

    private static Dictionary<string, string> Set(ClusterPlan plan) => plan.Set.ToDictionary(v => v.Key, v => v.Value);

    [Fact]
    public void Single_node_without_platform_variables_gets_local_defaults()
    {
        var plan = Plan("");

        Assert.Equal(
            [
                "MASTER_ADDR=127.0.0.1", "MASTER_PORT=29500", "NNODES=1", "NODE_RANK=0", "NPROC_PER_NODE=1",
                "WORLD_SIZE=1", "RANK=0", "LOCAL_RANK=0", "LOCAL_WORLD_SIZE=1", "PET_NNODES=1", "PET_NODE_RANK=0", "PET_NPROC_PER_NODE=1",
                "PET_MASTER_ADDR=127.0.0.1", "PET_MASTER_PORT=29500",
            ],
            plan.Set.Select(v => $"{v.Key}={v.Value}"));
        Assert.False(plan.NeedsMasterWait);
        Assert.Null(plan.HostfilePath);
    }

    // Each row: the platform's variables, then "NAME=value" the plan must set ("!NAME": must not set).
    [Theory]
    // single node from each family
    [InlineData("DLS_TASK_INDEX=0 DLS_TASK_NUMBER=1", "NNODES=1 NODE_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500 !TF_CONFIG !TRAINLAUNCHER_HOSTFILE")]
    [InlineData("DLS_TASK_INDEX=0 DLS_TASK_NUMBER=1 BATCH_CUSTOM0_HOSTS=w0.job:6000", "NNODES=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=6000 !TF_CONFIG")]
    [InlineData("VC_TASK_INDEX=0 VC_WORKER_NUM=1 VC_WORKER_HOSTS=job-worker-0.job", "NNODES=1 NODE_RANK=0 MASTER_ADDR=127.0.0.1 !TF_CONFIG")]
    [InlineData("MA_NUM_HOSTS=1", "NNODES=1 NODE_RANK=0 !TF_CONFIG")]
    // ModelArts: 2 and 4 nodes, ports present and absent
    [InlineData(
        "DLS_TASK_INDEX=1 DLS_TASK_NUMBER=2 BATCH_CUSTOM0_HOSTS=w0.job:6000 BATCH_CUSTOM1_HOSTS=w1.job:6001",
        "MASTER_ADDR=w0.job MASTER_PORT=6000 NNODES=2 NODE_RANK=1 WORLD_SIZE=2 RANK=1 PET_NNODES=2 PET_NODE_RANK=1 PET_MASTER_ADDR=w0.job PET_MASTER_PORT=6000 "
        + """TF_CONFIG={"cluster":{"worker":["w0.job:6000","w1.job:6001"]},"task":{"type":"worker","index":1}} TRAINLAUNCHER_HOSTFILE=/tmp/trainlauncher-hostfile""")]
    [InlineData(
        "DLS_TASK_INDEX=3 DLS_TASK_NUMBER=4 BATCH_CUSTOM0_HOSTS=10.0.0.1 BATCH_CUSTOM1_HOSTS=10.0.0.2 BATCH_CUSTOM2_HOSTS=10.0.0.3 BATCH_CUSTOM3_HOSTS=10.0.0.4",
        "MASTER_ADDR=10.0.0.1 MASTER_PORT=29500 NNODES=4 NODE_RANK=3 WORLD_SIZE=4 RANK=3 "
        + """TF_CONFIG={"cluster":{"worker":["10.0.0.1:2222","10.0.0.2:2222","10.0.0.3:2222","10.0.0.4:2222"]},"task":{"type":"worker","index":3}}""")]
    [InlineData( // the node count may come from the host list alone
        "DLS_TASK_INDEX=0 BATCH_CUSTOM0_HOSTS=a:7000 BATCH_CUSTOM1_HOSTS=b:7000",
        "MASTER_ADDR=a MASTER_PORT=7000 NNODES=2 NODE_RANK=0")]
    // Volcano's worker task: 2 and 4 nodes, ports present and absent
    [InlineData(
        "VC_TASK_INDEX=0 VC_WORKER_NUM=2 VC_WORKER_HOSTS=job-worker-0.job,job-worker-1.job",
        "MASTER_ADDR=job-worker-0.job MASTER_PORT=29500 NNODES=2 NODE_RANK=0 RANK=0 "
        + """TF_CONFIG={"cluster":{"worker":["job-worker-0.job:2222","job-worker-1.job:2222"]},"task":{"type":"worker","index":0}}""")]
    [InlineData(
        "VC_TASK_INDEX=2 VC_WORKER_NUM=4 VC_WORKER_HOSTS=h0:5000,h1:5000,h2:5000,h3:5000",
        "MASTER_ADDR=h0 MASTER_PORT=5000 NNODES=4 NODE_RANK=2 WORLD_SIZE=4 "
        + """TF_CONFIG={"cluster":{"worker":["h0:5000","h1:5000","h2:5000","h3:5000"]},"task":{"type":"worker","index":2}}""")]
    [InlineData( // VC_WORKER_NUM may be missing
        "VC_TASK_INDEX=1 VC_WORKER_HOSTS=h0,h1",
        "MASTER_ADDR=h0 NNODES=2 NODE_RANK=1")]
    // Volcano with another task name
    [InlineData(
        "VC_TASK_INDEX=1 VC_TRAINER_NUM=2 VC_TRAINER_HOSTS=job-trainer-0.job,job-trainer-1.job",
        "MASTER_ADDR=job-trainer-0.job NNODES=2 NODE_RANK=1")]
    [InlineData(
        "VC_TASK_INDEX=3 VC_TRAINER_NUM=4 VC_TRAINER_HOSTS=t0,t1,t2,t3",
        "MASTER_ADDR=t0 NNODES=4 NODE_RANK=3")]
    // Volcano master + worker tasks: master first, this node found by its host name
    [InlineData(
        "VC_TASK_INDEX=1 HOSTNAME=job-worker-1 VC_MASTER_NUM=1 VC_MASTER_HOSTS=job-master-0.job VC_WORKER_NUM=2 VC_WORKER_HOSTS=job-worker-0.job,job-worker-1.job",
        "MASTER_ADDR=job-master-0.job NNODES=3 NODE_RANK=2 RANK=2")]
    [InlineData(
        "VC_TASK_INDEX=0 HOSTNAME=job-master-0 VC_MASTER_NUM=1 VC_MASTER_HOSTS=job-master-0.job VC_WORKER_NUM=3 VC_WORKER_HOSTS=job-worker-0.job,job-worker-1.job,job-worker-2.job",
        "MASTER_ADDR=job-master-0.job NNODES=4 NODE_RANK=0")]
    // MA_NUM_HOSTS with Volcano's host list (ModelArts' newer variables)
    [InlineData(
        "MA_NUM_HOSTS=2 VC_TASK_INDEX=1 VC_WORKER_HOSTS=ma-0.ma,ma-1.ma",
        "MASTER_ADDR=ma-0.ma NNODES=2 NODE_RANK=1")]
    [InlineData(
        "MA_NUM_HOSTS=4 VC_TASK_INDEX=2 VC_WORKER_HOSTS=ma-0,ma-1,ma-2,ma-3",
        "MASTER_ADDR=ma-0 NNODES=4 NODE_RANK=2")]
    // several families that agree
    [InlineData(
        "DLS_TASK_INDEX=1 DLS_TASK_NUMBER=2 VC_TASK_INDEX=1 VC_WORKER_NUM=2 MA_NUM_HOSTS=2 BATCH_CUSTOM0_HOSTS=a:6000 BATCH_CUSTOM1_HOSTS=b:6000 VC_WORKER_HOSTS=a,b",
        "MASTER_ADDR=a MASTER_PORT=6000 NNODES=2 NODE_RANK=1")]
    // IPv6 literals in brackets
    [InlineData(
        "DLS_TASK_INDEX=0 BATCH_CUSTOM0_HOSTS=[fd00::1]:6000 BATCH_CUSTOM1_HOSTS=[fd00::2]",
        """MASTER_ADDR=fd00::1 MASTER_PORT=6000 TF_CONFIG={"cluster":{"worker":["[fd00::1]:6000","[fd00::2]:2222"]},"task":{"type":"worker","index":0}}""")]
    // empty values count as unset
    [InlineData("DLS_TASK_INDEX= DLS_TASK_NUMBER= MASTER_ADDR=", "NNODES=1 NODE_RANK=0 MASTER_ADDR=127.0.0.1")]
    public void Derives_the_layout(string env, string expected)
    {
        var set = Set(Plan(env));

        foreach (var item in expected.Split(' '))
        {
            if (item.StartsWith('!'))
            {
                Assert.False(set.ContainsKey(item[1..]), $"{item[1..]} must not be set");
                continue;
            }
            var (name, value) = (item.Split('=', 2)[0], item.Split('=', 2)[1]);
            Assert.True(set.TryGetValue(name, out var actual), $"{name} is not set");
            Assert.Equal(value, actual);
        }
    }

    [Fact]
    public void Tf_port_fills_hosts_listed_without_a_port()
    {
        var set = Set(Plan("VC_TASK_INDEX=0 VC_WORKER_HOSTS=a,b:7000", tfPort: 3333));

        Assert.Equal("""{"cluster":{"worker":["a:3333","b:7000"]},"task":{"type":"worker","index":0}}""", set["TF_CONFIG"]);
        Assert.Equal("29500", set["MASTER_PORT"]);
    }

    [Fact]
    public void Processes_per_node_follow_the_visible_accelerators_and_fill_the_hostfile()
    {
        var plan = Plan("DLS_TASK_INDEX=0 DLS_TASK_NUMBER=2 BATCH_CUSTOM0_HOSTS=a:6000 BATCH_CUSTOM1_HOSTS=b:6000", accelerators: 8);

        Assert.Equal("8", Set(plan)["NPROC_PER_NODE"]);
        Assert.Equal("8", Set(plan)["PET_NPROC_PER_NODE"]);
        Assert.Equal("a slots=8\nb slots=8\n", plan.HostfileText);
        Assert.Equal(Hostfile, plan.HostfilePath);
        Assert.True(plan.NeedsMasterWait);
    }

    [Theory]
    [InlineData("MASTER_PORT=1234", "MASTER_PORT", "PET_MASTER_PORT=1234")]
    [InlineData("MASTER_ADDR=10.9.9.9", "MASTER_ADDR", "PET_MASTER_ADDR=10.9.9.9")]
    [InlineData("NPROC_PER_NODE=3", "NPROC_PER_NODE", "PET_NPROC_PER_NODE=3")]
    [InlineData("NODE_RANK=0", "NODE_RANK", "RANK=0")]
    [InlineData("WORLD_SIZE=16", "WORLD_SIZE", "RANK=1")]
    [InlineData("RANK=9", "RANK", "NODE_RANK=1")]
    [InlineData("PET_NNODES=1:2", "PET_NNODES", "NNODES=2")]
    [InlineData("PET_MASTER_PORT=4444", "PET_MASTER_PORT", "MASTER_PORT=6000")]
    [InlineData("TF_CONFIG={}", "TF_CONFIG", "NNODES=2")]
    [InlineData("LOCAL_RANK=3", "LOCAL_RANK", "LOCAL_WORLD_SIZE=1")]
    [InlineData("LOCAL_WORLD_SIZE=8", "LOCAL_WORLD_SIZE", "LOCAL_RANK=0")]
    public void Values_already_set_win_and_are_mirrored(string user, string kept, string mirrored)
    {
        var env = $"DLS_TASK_INDEX=1 DLS_TASK_NUMBER=2 BATCH_CUSTOM0_HOSTS=a:6000 BATCH_CUSTOM1_HOSTS=b:6000 {user}";
        var plan = Plan(env);
        var set = Set(plan);

        Assert.False(set.ContainsKey(kept), $"{kept} was overridden");
        Assert.Contains(plan.Kept, v => v.Key == kept && v.Value == EnvText.Parse(user)[kept]);
        var (name, value) = (mirrored.Split('=')[0], mirrored.Split('=')[1]);
        Assert.Equal(value, set[name]);
    }

    [Fact]
    public void A_user_layout_without_platform_hosts_works_without_tf_config()
    {
        var plan = Plan("NNODES=2 NODE_RANK=1 MASTER_ADDR=10.1.1.1");
        var set = Set(plan);

        Assert.Equal("2", set["WORLD_SIZE"]);
        Assert.Equal("1", set["PET_NODE_RANK"]);
        Assert.Equal("10.1.1.1", set["PET_MASTER_ADDR"]);
        Assert.False(set.ContainsKey("TF_CONFIG"));
        Assert.Null(plan.HostfilePath);
        Assert.Contains(plan.Describe(), l => l.Contains("no TF_CONFIG and no hostfile", StringComparison.Ordinal));
    }

    [Fact]
    public void A_hostfile_variable_already_set_is_kept_and_nothing_is_written()
    {
        var plan = Plan("VC_TASK_INDEX=0 VC_WORKER_HOSTS=a,b TRAINLAUNCHER_HOSTFILE=/mine");

        Assert.Null(plan.HostfilePath);
        Assert.Contains(plan.Kept, v => v.Key == "TRAINLAUNCHER_HOSTFILE" && v.Value == "/mine");
    }

    // Each row: the environment, and how the one-line error must start (it names the variable).
    [Theory]
    [InlineData("DLS_TASK_INDEX=abc", "DLS_TASK_INDEX must be a whole number >= 0, got 'abc'")]
    [InlineData("DLS_TASK_INDEX=-1", "DLS_TASK_INDEX must be a whole number >= 0, got '-1'")]
    [InlineData("DLS_TASK_NUMBER=0", "DLS_TASK_NUMBER=0 is not a whole number of at least 1")]
    [InlineData("DLS_TASK_NUMBER=two", "DLS_TASK_NUMBER=two is not a whole number")]
    [InlineData("MA_NUM_HOSTS=x", "MA_NUM_HOSTS=x is not a whole number")]
    [InlineData("VC_TASK_INDEX=1.5", "VC_TASK_INDEX=1.5 is not a whole number")]
    [InlineData("VC_WORKER_NUM=x VC_WORKER_HOSTS=a,b", "VC_WORKER_NUM=x is not a whole number")]
    [InlineData("DLS_TASK_INDEX=2 DLS_TASK_NUMBER=2 BATCH_CUSTOM0_HOSTS=a:1 BATCH_CUSTOM1_HOSTS=b:1", "DLS_TASK_INDEX=2 is not below the node count 2 (DLS_TASK_NUMBER=2)")]
    [InlineData("DLS_TASK_INDEX=1", "DLS_TASK_INDEX=1 is not below the node count 1 (the default)")]
    [InlineData("VC_TASK_INDEX=4 VC_WORKER_HOSTS=a,b,c,d", "VC_TASK_INDEX=4 is not below the node count 4 (VC_WORKER_HOSTS (4 hosts))")]
    [InlineData("DLS_TASK_NUMBER=2 BATCH_CUSTOM0_HOSTS=a:6000", "BATCH_CUSTOM1_HOSTS is missing: DLS_TASK_NUMBER=2 needs one host per node")]
    [InlineData("BATCH_CUSTOM0_HOSTS=a:6000 BATCH_CUSTOM2_HOSTS=c:6000", "BATCH_CUSTOM1_HOSTS is missing while BATCH_CUSTOM2_HOSTS is set")]
    [InlineData("DLS_TASK_NUMBER=2 BATCH_CUSTOM0_HOSTS=a:6000 BATCH_CUSTOM1_HOSTS= ", "BATCH_CUSTOM1_HOSTS is missing")]
    [InlineData("DLS_TASK_NUMBER=1 BATCH_CUSTOM0_HOSTS=a:6000 BATCH_CUSTOM1_HOSTS=b:6000", "BATCH_CUSTOM<i>_HOSTS lists 2 hosts but DLS_TASK_NUMBER=1")]
    [InlineData("BATCH_CUSTOM0_HOSTS=a:port", "BATCH_CUSTOM0_HOSTS=a:port is malformed")]
    [InlineData("BATCH_CUSTOM0_HOSTS=a:70000", "BATCH_CUSTOM0_HOSTS=a:70000 is malformed")]
    [InlineData("BATCH_CUSTOM0_HOSTS=a:0", "BATCH_CUSTOM0_HOSTS=a:0 is malformed")]
    [InlineData("BATCH_CUSTOM0_HOSTS=a:", "BATCH_CUSTOM0_HOSTS=a: is malformed")]
    [InlineData("BATCH_CUSTOM0_HOSTS=:6000", "BATCH_CUSTOM0_HOSTS=:6000 is malformed")]
    [InlineData("BATCH_CUSTOM0_HOSTS=a,b:6000", "BATCH_CUSTOM0_HOSTS=a,b:6000 is malformed")]
    [InlineData("BATCH_CUSTOM0_HOSTS=a:1:2", "BATCH_CUSTOM0_HOSTS=a:1:2 is malformed")]
    [InlineData("BATCH_CUSTOM0_HOSTS=[fd00::1", "BATCH_CUSTOM0_HOSTS=[fd00::1 is malformed")]
    [InlineData("BATCH_CUSTOM0_HOSTS=[fd00::1]6000", "BATCH_CUSTOM0_HOSTS=[fd00::1]6000 is malformed")]
    [InlineData("BATCH_CUSTOM0_HOSTS=[zz]:6000", "BATCH_CUSTOM0_HOSTS=[zz]:6000 is malformed")]
    [InlineData("VC_WORKER_HOSTS=a,,b", "VC_WORKER_HOSTS=a,,b has a malformed entry ''")]
    [InlineData("VC_WORKER_HOSTS=a,b/c", "VC_WORKER_HOSTS=a,b/c has a malformed entry 'b/c'")]
    [InlineData("VC_WORKER_HOSTS=a,b VC_WORKER_NUM=3", "VC_WORKER_HOSTS lists 2 hosts but VC_WORKER_NUM=3")]
    [InlineData("DLS_TASK_NUMBER=2 VC_WORKER_NUM=4", "VC_WORKER_NUM=4 disagrees with DLS_TASK_NUMBER=2 on the node count")]
    [InlineData("DLS_TASK_NUMBER=2 MA_NUM_HOSTS=3", "MA_NUM_HOSTS=3 disagrees with DLS_TASK_NUMBER=2 on the node count")]
    [InlineData("DLS_TASK_INDEX=0 VC_TASK_INDEX=1 VC_WORKER_HOSTS=a,b", "VC_TASK_INDEX=1 disagrees with DLS_TASK_INDEX=0 on the node rank")]
    [InlineData("BATCH_CUSTOM0_HOSTS=a:1 BATCH_CUSTOM1_HOSTS=b:1 VC_WORKER_HOSTS=a,b,c", "BATCH_CUSTOM2_HOSTS is missing: VC_WORKER_HOSTS (3 hosts) needs one host per node")]
    [InlineData("BATCH_CUSTOM0_HOSTS=a:1 BATCH_CUSTOM1_HOSTS=b:1 BATCH_CUSTOM2_HOSTS=c:1 VC_WORKER_HOSTS=a,b", "BATCH_CUSTOM<i>_HOSTS lists 3 hosts but VC_WORKER_HOSTS (2 hosts)")]
    [InlineData("MA_NUM_HOSTS=2", "MA_NUM_HOSTS=2 but no host list")]
    [InlineData("VC_WORKER_NUM=2", "VC_WORKER_NUM=2 but no host list")]
    [InlineData("VC_MASTER_HOSTS=m VC_WORKER_HOSTS=a,b", "HOSTNAME is not set")]
    [InlineData("HOSTNAME=other VC_MASTER_HOSTS=m VC_WORKER_HOSTS=a,b", "HOSTNAME=other is not in VC_MASTER_HOSTS + VC_WORKER_HOSTS")]
    [InlineData("HOSTNAME=a VC_MASTER_NUM=1 VC_WORKER_HOSTS=a,b", "VC_MASTER_HOSTS is missing")]
    [InlineData("MASTER_PORT=abc", "MASTER_PORT=abc is not a port number")]
    [InlineData("MASTER_PORT=0", "MASTER_PORT=0 is not a port number")]
    [InlineData("NNODES=x", "NNODES=x is not a whole number")]
    [InlineData("NODE_RANK=3 NNODES=2 MASTER_ADDR=m", "NODE_RANK=3 is not below NNODES=2")]
    [InlineData("NPROC_PER_NODE=0", "NPROC_PER_NODE=0 is not a whole number of at least 1")]
    [InlineData("NNODES=2", "NNODES=2 but MASTER_ADDR is not set")]
    public void Inconsistent_or_malformed_layout_fails_with_one_line(string env, string message)
    {
        var error = Assert.Throws<ClusterLayoutException>(() => Plan(env));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    public void Tf_port_out_of_range_fails(int port)
    {
        var error = Assert.Throws<ClusterLayoutException>(() => Plan("", tfPort: port));

        Assert.StartsWith($"--tf-port {port} is not a port number", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_shows_position_master_and_every_variable()
    {
        var lines = Plan("DLS_TASK_INDEX=1 DLS_TASK_NUMBER=2 BATCH_CUSTOM0_HOSTS=w0.job:6000 BATCH_CUSTOM1_HOSTS=w1.job:6000 MASTER_PORT=1234", accelerators: 2)
            .Describe().ToList();

        Assert.Equal(
            "cluster: node 1 of 2 (from DLS_TASK_INDEX, DLS_TASK_NUMBER, BATCH_CUSTOM<i>_HOSTS), master w0.job:1234, 2 process(es) per node",
            lines[0]);
        Assert.Contains("cluster: sets MASTER_ADDR=w0.job", lines);
        Assert.Contains("cluster: sets PET_MASTER_PORT=1234", lines);
        Assert.Contains("cluster: sets TRAINLAUNCHER_HOSTFILE=/tmp/trainlauncher-hostfile", lines);
        Assert.Contains("cluster: keeps MASTER_PORT=1234 (already set)", lines);
        Assert.Equal("cluster: single node (no platform layout variables), 1 process(es) per node", Plan("").Describe().First());
        Assert.StartsWith(
            "cluster: node 2 of 3 (from VC_MASTER_HOSTS, VC_WORKER_HOSTS, HOSTNAME), master m.job:29500",
            Plan("HOSTNAME=w-1 VC_MASTER_HOSTS=m.job VC_WORKER_HOSTS=w-0.job,w-1.job").Describe().First(),
            StringComparison.Ordinal);
    }

    [Fact]
    public void WriteHostfile_writes_one_line_per_node()
    {
        var directory = Directory.CreateTempSubdirectory("trainlauncher-hostfile-").FullName;
        try
        {
            var path = Path.Combine(directory, "sub", "hostfile");
            var plan = ClusterLayout.Plan(EnvText.Parse("VC_TASK_INDEX=0 VC_WORKER_HOSTS=a,b,c"), 2, path);

            plan.WriteHostfile();

            Assert.Equal("a slots=2\nb slots=2\nc slots=2\n", File.ReadAllText(path));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void WriteHostfile_failure_names_the_path()
    {
        var file = Path.GetTempFileName();
        try
        {
            var path = Path.Combine(file, "hostfile"); // a file where a directory should be
            var plan = ClusterLayout.Plan(EnvText.Parse("VC_TASK_INDEX=0 VC_WORKER_HOSTS=a,b"), 1, path);

            var error = Assert.Throws<ClusterLayoutException>(plan.WriteHostfile);

            Assert.StartsWith($"cannot write the hostfile {path}:", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    // Found by the cluster fuzz target: the task counts were added up as int (OverflowException, 125
    // "internal error"), and values went raw into messages, so a newline could forge a line.
    [Theory]
    [InlineData("VC_A_NUM=2000000000 VC_B_NUM=2000000000", "VC_A_NUM=2000000000 + VC_B_NUM=2000000000 add up to 4000000000 nodes: fix the task counts")]
    [InlineData("DLS_TASK_INDEX=a\\r\\x7f", @"DLS_TASK_INDEX must be a whole number >= 0, got 'a\r\x7f'")]
    [InlineData("VC_WORKER_HOSTS=a,b\\nc", @"VC_WORKER_HOSTS=a,b\nc has a malformed entry 'b\nc': expected comma-separated host or host:port")]
    [InlineData("MASTER_PORT=1\\n2", @"MASTER_PORT=1\n2 is not a port number: give 1..65535 or unset it")]
    public void A_layout_beyond_limits_or_with_control_characters_is_one_line(string env, string message)
    {
        var environment = EnvText.Parse(env).ToDictionary(v => v.Key, v => System.Text.RegularExpressions.Regex.Unescape(v.Value));
        var error = Assert.Throws<ClusterLayoutException>(() => ClusterLayout.Plan(environment, 0, Hostfile));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void A_variable_name_ending_in_a_newline_is_not_a_host_list()
    {
        // Found by the cluster fuzz target: "BATCH_CUSTOM1_HOSTS\n" matched ^...$ ($ matches before a final newline).
        var environment = new Dictionary<string, string> { ["BATCH_CUSTOM0_HOSTS"] = "a:1", ["BATCH_CUSTOM1_HOSTS\n"] = "0,1" };

        var plan = ClusterLayout.Plan(environment, 0, Hostfile);

        Assert.Equal(1, plan.Position.NodeCount);
    }
}
