using System.Diagnostics;
using TrainLauncher.Tests.Support;
using Xunit.Abstractions;

namespace TrainLauncher.Tests.Cluster;

/// <summary>
/// Issue 5 for real: two launcher processes as node 0 and node 1 of a 2-node ModelArts job, each
/// with its own home, job dir, log file and temp dir (so its own hostfile), running Debian's
/// torch (tests/setup/torch.sh) on examples/distributed/train.py with the gloo backend. Every
/// form must end with the right all-reduce on both nodes and status 0.
/// </summary>
public sealed class DistributedSpecs(ITestOutputHelper output) : IDisposable
{
    // Debian's torch 1.13 on Python 3.11 needs --redirects 1 --tee 1 (examples/distributed/README.md).
    private const string Torchrun = "/usr/bin/python3 -m torch.distributed.run --redirects 1 --tee 1";
    private const string Script = "examples/distributed/train.py";
    private const string PerDeviceScript = "examples/per-device/train.py";
    private const string ExplicitForm =
        Torchrun + " --nnodes=$NNODES --node_rank=$NODE_RANK --nproc_per_node=$NPROC_PER_NODE" +
        " --master_addr=$MASTER_ADDR --master_port=$MASTER_PORT " + Script;

    // 3 steps of all-reduce over ranks 0 and 1 adding rank + 1: 3 * (1 + 2).
    private const string AllReduceResult = "allreduce sum=9 world=2";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(100);

    private readonly TempDir[] _nodes = [new(), new()];

    public void Dispose()
    {
        foreach (var node in _nodes) node.Dispose();
    }

    [SkippableFact]
    public async Task Explicit_torchrun_options_from_the_launcher_s_variables_join_two_nodes()
    {
        var (node0, node1) = await RunJobAsync("127.0.0.1", "127.0.0.1", run => run.Args("--shell", ExplicitForm));

        AssertJobSucceeded(node0, node1, "[default0]:");
    }

    [SkippableFact]
    public async Task A_bare_torchrun_joins_two_nodes_through_the_PET_variables()
    {
        var (node0, node1) = await RunJobAsync("127.0.0.1", "127.0.0.1",
            run => run.Args([.. Torchrun.Split(' '), Script]));

        AssertJobSucceeded(node0, node1, "[default0]:");
    }

    [SkippableFact]
    public async Task One_process_per_node_with_env_init_uses_MASTER_ADDR_MASTER_PORT_WORLD_SIZE_and_RANK()
    {
        var (node0, node1) = await RunJobAsync("127.0.0.1", "127.0.0.1", run => run.Args(Repo.Python, Script));

        AssertJobSucceeded(node0, node1, "");
    }

    [SkippableFact]
    public async Task A_failing_rank_makes_both_launchers_exit_non_zero()
    {
        var (node0, node1) = await RunJobAsync("127.0.0.1", "127.0.0.1",
            run => run.Set("FAIL_RANK", "1").Args([.. Torchrun.Split(' '), Script]));

        Assert.NotEqual(0, node0.ExitCode);
        Assert.NotEqual(0, node1.ExitCode);
        Assert.Contains("rank 1 failing on purpose (FAIL_RANK)", node1.Stdout);
        Assert.DoesNotContain(AllReduceResult, node0.Stdout);
    }

    [SkippableFact]
    public async Task Explicit_torchrun_joins_two_nodes_across_network_namespaces()
    {
        using var net = NetworkNamespaces.Create(out var reason);
        Skip.If(net is null, $"network namespaces do not work here: {reason}");

        var (node0, node1) = await RunJobAsync(NetworkNamespaces.Address0, NetworkNamespaces.Address1,
            // The machine's own name resolves to 127.0.0.1, which gloo would announce to the
            // other node; GLOO_SOCKET_IFNAME makes it use the namespace's veth address.
            (run, rank) => run.Set("GLOO_SOCKET_IFNAME", net.Interface(rank)).Args("--shell", ExplicitForm),
            rank => [NetworkNamespaces.Ip, "netns", "exec", net.Namespace(rank)]);

        AssertJobSucceeded(node0, node1, "[default0]:");
        Assert.Contains($"master {NetworkNamespaces.Address0}:", node1.Stdout);
    }

    [SkippableFact]
    public async Task Two_nodes_of_two_per_device_workers_each_get_their_global_rank_and_all_reduce_over_env_init()
    {
        var (node0, node1) = await RunPerDeviceJobAsync(run => run);

        foreach (var (node, rank) in new[] { (node0, 0), (node1, 1) })
        {
            Assert.True(node.ExitCode == 0, $"node {rank} exited {node.ExitCode}:\n{node.Stdout}");
            var lines = node.Stdout.Split('\n');
            for (int local = 0; local < 2; local++)
            {
                int global = rank * 2 + local;
                Assert.Contains($"[rank {global}] worker RANK={global} LOCAL_RANK={local} WORLD_SIZE=4 DEVICE_ID={local} RANK_ID={global}", lines);
                // 3 steps of all-reduce over ranks 0..3 adding rank + 1: 3 * (1 + 2 + 3 + 4).
                Assert.Contains($"[rank {global}] allreduce sum=30 world=4", lines);
            }
        }
    }

    [SkippableFact]
    public async Task A_failing_per_device_worker_stops_all_four_and_its_status_and_name_are_its_node_s()
    {
        var (node0, node1) = await RunPerDeviceJobAsync(run => run.Set("FAIL_RANK", "3"));

        Assert.Equal(3, node1.ExitCode);
        Assert.Contains("[rank 3] rank 3 failing on purpose (FAIL_RANK)", node1.Stdout.Split('\n'));
        Assert.StartsWith("exit status 3 (phase running): worker 1 (rank 3, device 1) exited with status 3\n",
            File.ReadAllText(_nodes[1]["termination"]));
        // Node 0's workers lose their peer (a gloo error) or their master: they end, not all well,
        // and nobody prints a result.
        Assert.NotEqual(0, node0.ExitCode);
        Assert.DoesNotContain("allreduce sum=", node0.Stdout + node1.Stdout);
        Assert.Contains(node1.Messages, l => l.StartsWith("[trainlauncher] worker 0 (rank 2, device 0) ended with ", StringComparison.Ordinal));
        Assert.Equal(2, node0.Messages.Count(l => l.Contains(") ended with ", StringComparison.Ordinal)));
    }

    /// <summary>Two launchers in two network namespaces, each with two stand-in GPUs and --per-device.</summary>
    private async Task<(LauncherResult Node0, LauncherResult Node1)> RunPerDeviceJobAsync(Func<LauncherRun, LauncherRun> configure)
    {
        using var net = NetworkNamespaces.Create(out var reason);
        Skip.If(net is null, $"network namespaces do not work here: {reason}");
        foreach (var node in _nodes)
            foreach (var device in new[] { "nvidia0", "nvidia1", "nvidiactl" }) node.Write("dev/" + device, "");

        return await RunJobAsync(NetworkNamespaces.Address0, NetworkNamespaces.Address1,
            (run, rank) => configure(run.Set("GLOO_SOCKET_IFNAME", net.Interface(rank)).Set("NVIDIA_VISIBLE_DEVICES", "all")
                .Args("--per-device", "--device-dir", _nodes[rank]["dev"], "--stop-grace", "5", "--termination-log", _nodes[rank]["termination"],
                    Repo.Python, PerDeviceScript)),
            rank => [NetworkNamespaces.Ip, "netns", "exec", net.Namespace(rank)]);
    }

    private Task<(LauncherResult Node0, LauncherResult Node1)> RunJobAsync(string host0, string host1, Func<LauncherRun, LauncherRun> command) =>
        RunJobAsync(host0, host1, (run, _) => command(run), _ => []);

    /// <summary>Starts both nodes at once and waits for both (each within <see cref="Bound"/>).</summary>
    private async Task<(LauncherResult Node0, LauncherResult Node1)> RunJobAsync(
        string host0, string host1, Func<LauncherRun, int, LauncherRun> command, Func<int, string[]> wrapper)
    {
        EnsureTorch();
        int masterPort = Http.FreePort(), otherPort = Http.FreePort();
        var runs = new LauncherRun[2];
        for (int rank = 0; rank < 2; rank++)
        {
            var dir = _nodes[rank];
            foreach (var script in new[] { Script, PerDeviceScript })
                dir.Write("home/user-job-dir/" + script, File.ReadAllText(Path.Combine(Repo.Root, script)));
            Directory.CreateDirectory(dir["tmp"]);
            runs[rank] = command(new LauncherRun(dir)
                .Set("TMPDIR", dir["tmp"]) // torchelastic's files and the hostfile stay in the test's dir
                .Set("DLS_TASK_INDEX", $"{rank}")
                .Set("DLS_TASK_NUMBER", "2")
                .Set("BATCH_CUSTOM0_HOSTS", $"{host0}:{masterPort}")
                .Set("BATCH_CUSTOM1_HOSTS", $"{host1}:{otherPort}")
                .Args("--wait-hosts", "30"), rank);
        }
        var results = await MultiNode.RunAsync(runs, wrapper, Bound, output);
        Assert.Equal(File.ReadAllText(_nodes[0]["tmp/trainlauncher-hostfile-0"]), File.ReadAllText(_nodes[1]["tmp/trainlauncher-hostfile-1"]));
        return (results[0], results[1]);
    }

    private static void AssertJobSucceeded(LauncherResult node0, LauncherResult node1, string prefix)
    {
        foreach (var (node, rank) in new[] { (node0, 0), (node1, 1) })
        {
            Assert.True(node.ExitCode == 0, $"node {rank} exited {node.ExitCode}:\n{node.Stdout}");
            var lines = node.Stdout.Split('\n');
            Assert.Contains(lines, l => l.StartsWith($"{prefix}rank {rank} of 2 up", StringComparison.Ordinal));
            Assert.Contains(prefix + AllReduceResult, lines);
            Assert.Contains(lines, l => l.StartsWith(prefix + "ddp step loss=", StringComparison.Ordinal) && l.EndsWith("weights_in_sync=True", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith($"[trainlauncher] cluster: node {rank} of 2 ", StringComparison.Ordinal));
        }
    }

    /// <summary>Debian's torch for /usr/bin/python3: installed by tests/setup/torch.sh when missing.</summary>
    internal static void EnsureTorch()
    {
        if (Exec(Repo.Python, "-c", "import torch").Code == 0) return;
        var (code, text) = Exec("bash", Path.Combine(Repo.Root, "tests/setup/torch.sh"));
        Skip.If(code != 0, $"python3-torch could not be installed (apt unavailable?): {text}");
    }

    internal static (int Code, string Output) Exec(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }
}

/// <summary>
/// Two network namespaces joined by a veth pair, 10.99.0.1/24 and 10.99.0.2/24: two "machines"
/// on one host. The addresses exist only inside these namespaces; Dispose deletes them (which
/// deletes the veth pair too).
/// </summary>
internal sealed class NetworkNamespaces : IDisposable
{
    public const string Address0 = "10.99.0.1";
    public const string Address1 = "10.99.0.2";
    public static string Ip { get; } = new[] { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" }.FirstOrDefault(File.Exists) ?? "ip";

    // Unique per instance, so test runs in parallel do not meet; interface names stay <= 15 chars.
    private readonly string _id = Guid.NewGuid().ToString("N")[..6];

    private NetworkNamespaces()
    {
    }

    public string Namespace(int rank) => $"tl-{_id}-{rank}";
    public string Interface(int rank) => $"tlv{_id}{rank}";

    /// <summary>Null, with the reason, where namespaces cannot be made (not root, no ip, no veth).</summary>
    public static NetworkNamespaces? Create(out string reason)
    {
        var net = new NetworkNamespaces();
        string[][] steps =
        [
            ["netns", "add", net.Namespace(0)],
            ["netns", "add", net.Namespace(1)],
            ["link", "add", net.Interface(0), "type", "veth", "peer", "name", net.Interface(1)],
            ["link", "set", net.Interface(0), "netns", net.Namespace(0)],
            ["link", "set", net.Interface(1), "netns", net.Namespace(1)],
            ["-n", net.Namespace(0), "addr", "add", Address0 + "/24", "dev", net.Interface(0)],
            ["-n", net.Namespace(1), "addr", "add", Address1 + "/24", "dev", net.Interface(1)],
            ["-n", net.Namespace(0), "link", "set", net.Interface(0), "up"],
            ["-n", net.Namespace(1), "link", "set", net.Interface(1), "up"],
            ["-n", net.Namespace(0), "link", "set", "lo", "up"],
            ["-n", net.Namespace(1), "link", "set", "lo", "up"],
        ];
        foreach (var step in steps)
        {
            int code;
            string text;
            try
            {
                (code, text) = DistributedSpecs.Exec(Ip, step);
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                (code, text) = (-1, e.Message);
            }
            if (code != 0)
            {
                net.Dispose();
                reason = $"ip {string.Join(' ', step)}: {text.Trim()}";
                return null;
            }
        }
        reason = "";
        return net;
    }

    public void Dispose()
    {
        foreach (var rank in new[] { 0, 1 })
        {
            try
            {
                DistributedSpecs.Exec(Ip, "netns", "del", Namespace(rank));
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // no ip at all: nothing was made
            }
        }
        // A veth made before its move into a namespace failed is still in the host's namespace.
        try { DistributedSpecs.Exec(Ip, "link", "del", Interface(0)); } catch (System.ComponentModel.Win32Exception) { }
    }
}
