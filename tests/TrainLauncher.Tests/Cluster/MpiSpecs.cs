using TrainLauncher.Tests.Support;
using Xunit.Abstractions;

namespace TrainLauncher.Tests.Cluster;

/// <summary>
/// Issue 14, part 5: the launcher's hostfile is what mpirun reads. The hostfile gets one slot per
/// visible device on every line; then, for real, two launchers in two network namespaces run
/// examples/mpi/mpi-job.sh (Debian's Open MPI and mpi4py, tests/setup/mpi.sh): node 1's launcher
/// runs sshd (a test port, host key and authorized key in the test's dir; nothing of the
/// machine's /etc or /root/.ssh), node 0's runs mpirun over its hostfile, whose ranks on node 1
/// are started through that sshd; at the end node 0 stops node 1's sshd and both launchers end.
/// </summary>
public sealed class MpiSpecs(ITestOutputHelper output) : IDisposable
{
    private const int SshPort = 2222; // inside the test's own network namespaces: no other test meets it
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private static readonly string JobScript = Path.Combine(Repo.Root, "examples/mpi/mpi-job.sh");
    private static readonly string Program = Path.Combine(Repo.Root, "examples/mpi/hello.py");

    private readonly TempDir _dir = new();
    private readonly TempDir[] _nodes = [new(), new()];

    public void Dispose()
    {
        foreach (var node in _nodes) node.Dispose();
        _dir.Dispose();
    }

    [Theory]
    [InlineData("", 2)]
    [InlineData("--gpus 1", 1)]
    public async Task The_hostfile_gives_every_node_one_slot_per_visible_device(string options, int slots)
    {
        var result = await Node(_nodes[1], 1, "localhost", "127.0.0.1", devices: 2)
            .Args(options.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Dummy("env").RunAsync();

        Assert.Equal(0, result.ExitCode);
        Assert.Equal($"localhost slots={slots}\n127.0.0.1 slots={slots}\n", File.ReadAllText(_nodes[1]["tmp/trainlauncher-hostfile-1"]));
        Assert.Contains($"NPROC_PER_NODE={slots}", result.Stdout.Split('\n'));
    }

    [SkippableTheory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Mpirun_over_the_hostfile_starts_one_rank_per_device_on_each_node_and_both_launchers_end_with_0(int devices)
    {
        var (node0, node1) = await RunJobAsync(devices, run => run);

        int world = 2 * devices;
        Assert.True(node0.ExitCode == 0, $"node 0 exited {node0.ExitCode}:\n{node0.Stdout}");
        var lines = node0.Stdout.Split('\n');
        for (int rank = 0; rank < world; rank++)
        {
            // mpirun fills node 0's slots first: ranks 0..devices-1 there, the rest on node 1.
            Assert.Contains($"rank {rank} of {world} on node{rank / devices} up", lines);
            Assert.Contains($"rank {rank} allreduce sum={world * (world + 1) / 2} world={world}", lines);
        }
        Assert.Equal($"{NetworkNamespaces.Address0} slots={devices}\n{NetworkNamespaces.Address1} slots={devices}\n",
            File.ReadAllText(_nodes[0]["tmp/trainlauncher-hostfile-0"]));
        AssertNode1EndedByNode0(node1);
    }

    [SkippableFact]
    public async Task A_failing_rank_gives_node_0_its_status_and_the_termination_message_shows_it()
    {
        var termination = _dir["termination-log"];
        var (node0, node1) = await RunJobAsync(2,
            run => run.Set("FAIL_RANK", "3").Args("--termination-log", termination),
            mpirunOptions: ["-x", "FAIL_RANK"]);

        Assert.Equal(3, node0.ExitCode);
        Assert.Contains("[trainlauncher] exit status 3", node0.Messages);
        var message = File.ReadAllText(termination);
        Assert.StartsWith("exit status 3 (phase running): the command ended with exit status 3\n", message, StringComparison.Ordinal);
        Assert.Contains("rank 3 failing on purpose (FAIL_RANK)", message);
        Assert.Contains("MPI_ABORT was invoked on rank 3", message);
        Assert.DoesNotContain("allreduce sum=", node0.Stdout);
        AssertNode1EndedByNode0(node1);
    }

    [SkippableFact]
    public async Task On_a_single_node_the_job_script_runs_one_rank_per_device_without_ssh()
    {
        EnsureMpi();
        foreach (var name in new[] { "nvidia0", "nvidia1" }) _dir.Write($"dev/{name}", "");
        // No platform layout: no hostfile, mpirun -np NPROC_PER_NODE here; port 1: any ssh would fail.
        var result = await new LauncherRun(_dir).Set("NVIDIA_VISIBLE_DEVICES", "all").Set("MPI_SSH_PORT", "1")
            .Args("--device-dir", _dir["dev"], "bash", JobScript, Repo.Python, Program).RunAsync(Bound);

        Assert.True(result.ExitCode == 0, $"exited {result.ExitCode}:\n{result.Stdout}");
        Assert.Contains("rank 0 allreduce sum=3 world=2", result.Stdout.Split('\n'));
        Assert.Contains("rank 1 allreduce sum=3 world=2", result.Stdout.Split('\n'));
    }

    [SkippableFact]
    public async Task Stopped_by_the_platform_a_worker_node_s_sshd_ends_and_its_launcher_exits_0()
    {
        // Volcano's TaskCompleted → CompleteJob policy: the platform stops node 1 with SIGTERM.
        EnsureMpi();
        Skip.If(DistributedSpecs.Exec("id", "-u").Output.Trim() != "0", "sshd needs root to accept a login");
        var ssh = SshFiles();
        var run = Node(_nodes[1], 1, "localhost", "127.0.0.1", devices: 1)
            .Set("MPI_SSH_PORT", $"{Http.FreePort()}")
            .Set("MPI_SSHD_OPTIONS", $"-f {ssh.Config}")
            .Set("MPI_SSHD_PIDFILE", _dir["sshd.pid"])
            .Args("bash", JobScript);
        using var launcher = run.Start();
        var result = run.CollectAsync(launcher, Bound);

        try
        {
            await Supervision.Supervised.WaitUntilAsync(
                () => SharedFile.Read(_nodes[1][$"stdout-{launcher.Id}"]).Contains("Server listening on ", StringComparison.Ordinal),
                launcher, "sshd listening");
        }
        catch
        {
            launcher.Kill(entireProcessTree: true); // no sshd left listening after a failed test
            throw;
        }
        Supervision.Signals.Send(launcher.Id, "SIGTERM");
        var node1 = await result;

        Assert.Equal(0, node1.ExitCode);
        Assert.Contains("Received signal 15; terminating.", node1.Stdout.Split('\n').Select(l => l.TrimEnd('\r')));
        Assert.Contains("[trainlauncher] exit status 0", node1.Messages);
    }

    /// <summary>Node 1 was never signalled by the test: its sshd ended on node 0's SIGTERM
    /// (sshd's own "Received signal 15") with status 0, and so did its launcher.</summary>
    private static void AssertNode1EndedByNode0(LauncherResult node1)
    {
        Assert.True(node1.ExitCode == 0, $"node 1 exited {node1.ExitCode}:\n{node1.Stdout}");
        // sshd -e ends its log lines with \r\n.
        var lines = node1.Stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.Contains(lines, l => l.StartsWith($"Accepted publickey for root from {NetworkNamespaces.Address0} ", StringComparison.Ordinal));
        Assert.Contains("Received signal 15; terminating.", lines);
        Assert.Contains("[trainlauncher] exit status 0", node1.Messages);
    }

    /// <summary>One node of the 2-node job: its own home, log and temp dir (so its own hostfile),
    /// <paramref name="devices"/> stand-in GPUs.</summary>
    private LauncherRun Node(TempDir dir, int rank, string host0, string host1, int devices)
    {
        for (int i = 0; i < devices; i++) dir.Write($"dev/nvidia{i}", "");
        dir.Write("dev/nvidiactl", "");
        Directory.CreateDirectory(dir["tmp"]);
        return new LauncherRun(dir)
            .Set("TMPDIR", dir["tmp"])
            .Set("NVIDIA_VISIBLE_DEVICES", "all")
            .Set("DLS_TASK_INDEX", $"{rank}")
            .Set("DLS_TASK_NUMBER", "2")
            .Set("BATCH_CUSTOM0_HOSTS", host0)
            .Set("BATCH_CUSTOM1_HOSTS", host1)
            .Args("--device-dir", dir["dev"], "--wait-hosts", "30");
    }

    /// <summary>Starts both nodes at once, each in its namespace with its own host name, and
    /// waits for both (each within <see cref="Bound"/>; node 1 only ends when node 0 stops it).</summary>
    private async Task<(LauncherResult Node0, LauncherResult Node1)> RunJobAsync(
        int devices, Func<LauncherRun, LauncherRun> node0Options, string[]? mpirunOptions = null)
    {
        EnsureMpi();
        using var net = NetworkNamespaces.Create(out var reason);
        Skip.If(net is null, $"network namespaces do not work here (they need root and ip with veth): {reason}");
        var ssh = SshFiles();

        var runs = new LauncherRun[2];
        for (int rank = 0; rank < 2; rank++)
        {
            var run = Node(_nodes[rank], rank, NetworkNamespaces.Address0, NetworkNamespaces.Address1, devices)
                .Set("MPI_SSH_PORT", $"{SshPort}")
                .Set("MPI_SSH_OPTIONS", $"-i {ssh.UserKey} -F /dev/null")
                .Set("MPI_SSHD_OPTIONS", $"-f {ssh.Config}")
                .Set("MPI_SSHD_PIDFILE", _dir["sshd.pid"])
                .Set("MPI_WAIT_WORKERS", "60");
            if (rank == 0) run = node0Options(run);
            runs[rank] = run.Args("bash", JobScript);
        }
        runs[0].Args([.. mpirunOptions ?? [], Repo.Python, Program]);
        // Open MPI names its shared-memory segments after the host name: two nodes with one
        // name on one machine crash in mca_btl_vader (seen). A UTS namespace each, as two machines.
        var results = await MultiNode.RunAsync(runs, rank =>
            [NetworkNamespaces.Ip, "netns", "exec", net.Namespace(rank),
             "unshare", "--uts", "--", "sh", "-c", "hostname \"$0\" && exec \"$@\"", $"node{rank}"],
            Bound, output);
        return (results[0], results[1]);
    }

    /// <summary>A host key, a user key authorized for root and an sshd config naming them, all in
    /// the test's dir.</summary>
    private (string UserKey, string Config) SshFiles()
    {
        var hostKey = _dir["ssh/host_key"];
        var userKey = _dir["ssh/user_key"];
        Directory.CreateDirectory(_dir["ssh"]);
        foreach (var key in new[] { hostKey, userKey })
        {
            var (code, text) = DistributedSpecs.Exec("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key);
            Assert.True(code == 0, $"ssh-keygen: {text}");
        }
        File.Copy(userKey + ".pub", _dir["ssh/authorized_keys"]);
        var config = _dir.Write("ssh/sshd_config", $"""
            HostKey {hostKey}
            AuthorizedKeysFile {_dir["ssh/authorized_keys"]}
            PermitRootLogin prohibit-password
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no

            """);
        return (userKey, config);
    }

    /// <summary>Open MPI, mpi4py, sshd and unshare: installed by tests/setup/mpi.sh when missing.</summary>
    private static void EnsureMpi()
    {
        static bool Ready() =>
            File.Exists("/usr/bin/mpirun") && File.Exists("/usr/sbin/sshd") && File.Exists("/usr/bin/ssh-keygen")
            && DistributedSpecs.Exec(Repo.Python, "-c", "import mpi4py").Code == 0;

        Skip.If(!File.Exists("/usr/bin/unshare"), "unshare (util-linux) is missing: each node needs its own host name");
        if (Ready()) return;
        var (code, text) = DistributedSpecs.Exec("bash", Path.Combine(Repo.Root, "tests/setup/mpi.sh"));
        Skip.If(code != 0 || !Ready(), $"openmpi-bin, python3-mpi4py or openssh-server could not be installed (apt unavailable?): {text}");
    }
}
