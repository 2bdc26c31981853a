using TrainLauncher.Tests.Support;
using TrainLauncher.Tests.Supervision;
using static TrainLauncher.Tests.Supervision.Supervised;

namespace TrainLauncher.Tests.Cluster;

/// <summary>
/// `--per-device` (issue 14 part 1) on one node with real processes: one worker per stand-in
/// device (`--device-dir`), each with its own rank, device and visibility; the first failing
/// worker stops the others and decides the status; a stop signal and the hang watchdog reach
/// every worker; output is prefixed when asked and each worker's log holds its bytes exactly.
/// </summary>
public sealed class PerDeviceSpecs : IDisposable
{
    // The line every worker prints: what its environment says about its place in the job.
    private const string Report =
        "echo \"w=$LOCAL_RANK rank=$RANK lws=$LOCAL_WORLD_SIZE ws=$WORLD_SIZE dev=$DEVICE_ID rid=$RANK_ID rsz=$RANK_SIZE cuda=$CUDA_VISIBLE_DEVICES ascend=$ASCEND_RT_VISIBLE_DEVICES\"";

    private readonly TempDir _dir = new();

    public PerDeviceSpecs()
    {
        foreach (var name in new[] { "nvidia0", "nvidia1", "nvidia2", "nvidiactl", "davinci0", "davinci1", "davinci_manager" })
            _dir.Write("dev/" + name, "");
    }

    public void Dispose() => _dir.Dispose();

    private LauncherRun Run(string devices = "NVIDIA_VISIBLE_DEVICES=all")
    {
        var run = new LauncherRun(_dir).Args("--device-dir", _dir["dev"], "--termination-log", _dir["termination"]);
        foreach (var pair in devices.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            run.Set(pair[..pair.IndexOf('=')], pair[(pair.IndexOf('=') + 1)..]);
        return run;
    }

    private static string Dummy(string args) => $"{Repo.Python} {Repo.Dummy} {args}";

    [Fact]
    public async Task Each_worker_gets_its_rank_and_its_own_device_and_the_per_worker_values_win_over_the_job_s()
    {
        // A user's RANK/WORLD_SIZE are the whole job's: torchrun replaces them per worker, so do we.
        var result = await Run("CUDA_VISIBLE_DEVICES=4,5,6 RANK=7 WORLD_SIZE=9").Args("--per-device", "--gpus", "2,0", "--shell", Report).RunAsync();

        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        Assert.Contains("[rank 0] w=0 rank=0 lws=2 ws=2 dev=6 rid=0 rsz=2 cuda=6 ascend=", lines);
        Assert.Contains("[rank 1] w=1 rank=1 lws=2 ws=2 dev=4 rid=1 rsz=2 cuda=4 ascend=", lines);
        Assert.Contains("[trainlauncher] workers: 2 (--per-device: one device each via CUDA_VISIBLE_DEVICES), output prefix on", lines);
    }

    [Fact]
    public async Task Shared_workers_see_every_device_and_pick_theirs_by_DEVICE_ID()
    {
        var result = await Run().Args("--per-device=shared", "--shell", Report).RunAsync();

        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        for (int w = 0; w < 3; w++)
            Assert.Contains($"[rank {w}] w={w} rank={w} lws=3 ws=3 dev={w} rid={w} rsz=3 cuda= ascend=", lines);
    }

    [Fact]
    public async Task The_environment_variable_turns_workers_on_and_a_single_worker_gets_no_prefix()
    {
        var result = await Run("CUDA_VISIBLE_DEVICES=1").Set("TRAINLAUNCHER_PER_DEVICE", "own").Args("--shell", Report).RunAsync();

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("w=0 rank=0 lws=1 ws=1 dev=1 rid=0 rsz=1 cuda=1 ascend=", result.Stdout.Split('\n'));
    }

    [Fact]
    public async Task Ascend_workers_take_RANK_ID_and_RANK_SIZE_from_the_rank_table()
    {
        // This node is server 10.0.0.2 of a two-server table (found by HOSTNAME): its devices 0 and 1 have ranks 2 and 3 of 4.
        string table = File.ReadAllText(Path.Combine(Repo.Root, "tests/fuzz/corpus/ranktable/v1-two-servers"));
        var result = await Run("ASCEND_VISIBLE_DEVICES=all").Set("HOSTNAME", "10.0.0.2").Set("RANK_TABLE_FILE", _dir.Write("table.json", table))
            .Args("--per-device", "--shell", Report).RunAsync();

        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        Assert.Contains("[rank 0] w=0 rank=0 lws=2 ws=2 dev=0 rid=2 rsz=4 cuda= ascend=0", lines);
        Assert.Contains("[rank 1] w=1 rank=1 lws=2 ws=2 dev=1 rid=3 rsz=4 cuda= ascend=1", lines);
    }

    [Fact]
    public async Task Per_device_without_a_visible_accelerator_is_125_and_one_line()
    {
        var result = await Run("").Args("--per-device", "true").RunAsync();

        Assert.Equal(125, result.ExitCode);
        Assert.Equal("[trainlauncher] error: --per-device: no accelerator is visible (NVIDIA none): make devices visible or drop --per-device",
            Assert.Single(result.Messages, l => l.Contains("error:")));
        Assert.DoesNotContain(result.Messages, l => l.Contains("workers:"));
    }

    [Fact]
    public async Task The_first_failing_worker_stops_the_others_and_its_status_is_the_job_s()
    {
        // Worker 0 handles SIGTERM (prints, dies by it), worker 2 ignores it (SIGKILL after the
        // grace), worker 1 fails with 3 once both are ready.
        string script = $"case $LOCAL_RANK in 0) exec {Dummy($"trap {_dir["ready0"]}")};; 2) exec {Dummy($"stubborn {_dir["ready2"]}")};; " +
                        $"*) while [ ! -e {_dir["ready0"]} ] || [ ! -e {_dir["ready2"]} ]; do sleep 0.02; done; echo failing; exit 3;; esac";
        var result = await Run().Args("--per-device", "--stop-grace", "1", "--shell", script).RunAsync();

        Assert.Equal(3, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        Assert.Contains("[rank 0] got SIGTERM", lines);
        Assert.Contains(result.Messages, l => l.StartsWith("[trainlauncher] warning: worker 1 (rank 1, device 1) failed with exit status 3: the other workers are stopped", StringComparison.Ordinal));
        Assert.Contains(result.Messages, l => l.StartsWith("[trainlauncher] worker 0 (rank 0, device 0) ended with signal SIGTERM", StringComparison.Ordinal));
        Assert.Contains(result.Messages, l => l.StartsWith("[trainlauncher] worker 2 (rank 2, device 2) ended with signal SIGKILL", StringComparison.Ordinal));
        Assert.Contains("[trainlauncher]   failed       worker 1 (rank 1, device 1) exited with status 3", lines);
        Assert.StartsWith("exit status 3 (phase running): worker 1 (rank 1, device 1) exited with status 3\n", File.ReadAllText(_dir["termination"]));
    }

    [Fact]
    public async Task What_an_exited_worker_left_running_is_stopped_with_the_others_when_one_fails()
    {
        // Worker 0's shell leaves its program running in worker 0's group and exits 0; worker 1
        // fails; worker 2 lives on past SIGTERM, so the launcher is not yet ending leftovers.
        string Record(int w) => Dummy($"record {_dir[$"log{w}"]} {_dir[$"ready{w}"]} {_dir["finish"]} 0");
        string script = $"case $LOCAL_RANK in 0) {Record(0)} & ;; 2) exec {Record(2)};; " +
                        $"*) while [ ! -e {_dir["ready0"]} ] || [ ! -e {_dir["ready2"]} ]; do sleep 0.02; done; exit 3;; esac";
        var run = Run().Args("--per-device", "--stop-grace", "60", "--shell", script);
        using var process = run.Start();
        var collecting = run.CollectAsync(process, TimeSpan.FromSeconds(60));

        await WaitUntilAsync(() => new[] { 0, 2 }.All(w => File.Exists(_dir[$"log{w}"]) && File.ReadAllText(_dir[$"log{w}"]).Contains("SIGTERM")),
            process, "worker 0's program and worker 2 got SIGTERM");
        File.WriteAllText(_dir["finish"], "");
        var result = await collecting;

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("got SIGTERM\n", File.ReadAllText(_dir["log0"]));
    }

    [Fact]
    public async Task The_failing_worker_s_own_torchelastic_error_file_gives_the_root_cause()
    {
        // Each worker has an error file of its own: worker 0's (written, but it did not fail) is not the cause.
        string script = "echo \"{\\\"message\\\": \\\"RuntimeError: shard $RANK lost\\\"}\" > \"$TORCHELASTIC_ERROR_FILE\"; " +
                        $"if [ $LOCAL_RANK = 1 ]; then exit 1; else exec {Dummy($"trap {_dir["ready"]}")}; fi";
        var result = await Run("CUDA_VISIBLE_DEVICES=0,1").Args("--per-device", "--shell", script).RunAsync();

        Assert.Equal(1, result.ExitCode);
        var message = File.ReadAllText(_dir["termination"]).Split('\n');
        Assert.Equal("exit status 1 (phase running): worker 1 (rank 1, device 1) exited with status 1", message[0]);
        Assert.Equal("root cause (worker 1's torchelastic error file): RuntimeError: shard 1 lost", message[1]);
    }

    [Fact]
    public async Task A_stop_signal_reaches_every_worker_and_the_program_a_worker_s_shell_left_behind()
    {
        // Worker 0's shell leaves its program behind (reparented to the launcher, still in worker
        // 0's group): the group's signal reaches it. The exact log below would also show a second
        // SIGTERM that came after the first was handled, but not one sent microseconds after the
        // first (another worker's stop taking it for an adopted process): the kernel merges those,
        // so "once" is not what this test can prove.
        string record = Dummy($"record {_dir["log"]}$LOCAL_RANK {_dir["ready"]}$LOCAL_RANK {_dir["finish"]} 0");
        string script = $"if [ $LOCAL_RANK = 0 ]; then {record} & else exec {record}; fi";
        var run = Run().Args("--per-device", "--shell", script);
        using var process = run.Start();
        var collecting = run.CollectAsync(process, TimeSpan.FromSeconds(60));
        await WaitUntilAsync(() => Enumerable.Range(0, 3).All(w => File.Exists(_dir[$"ready{w}"])), process, "every worker is ready");

        Signals.Send(process.Id, "SIGTERM");
        await WaitUntilAsync(() => Enumerable.Range(0, 3).All(w => File.Exists(_dir[$"log{w}"]) && File.ReadAllText(_dir[$"log{w}"]).Contains("SIGTERM")),
            process, "every worker got SIGTERM");
        await Task.Delay(200); // a second SIGTERM, were one sent, would land now
        File.WriteAllText(_dir["finish"], "");
        var result = await collecting;

        Assert.Equal(0, result.ExitCode); // each handled it and exited 0: nobody failed
        for (int w = 0; w < 3; w++) Assert.Equal("got SIGTERM\n", File.ReadAllText(_dir[$"log{w}"]));
    }

    [Fact]
    public async Task The_hang_watchdog_stops_every_worker_with_124()
    {
        var result = await Run().Args("--per-device", "--no-output-timeout", "0.5", "--no-output-action", "stop", "--shell",
            Dummy($"trap {_dir["ready"]}$LOCAL_RANK")).RunAsync();

        Assert.Equal(124, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        for (int w = 0; w < 3; w++) Assert.Contains($"[rank {w}] got SIGTERM", lines);
    }

    [Theory]
    [InlineData("--worker-prefix=off", false)]
    [InlineData("--worker-prefix", true)]
    public async Task The_worker_prefix_follows_the_option(string option, bool prefixed)
    {
        var result = await Run("CUDA_VISIBLE_DEVICES=0,1").Args("--per-device", option, "--shell", "echo \"hello from $RANK\"").RunAsync();

        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        foreach (int rank in new[] { 0, 1 })
            Assert.Contains(prefixed ? $"[rank {rank}] hello from {rank}" : $"hello from {rank}", lines);
    }

    [Fact]
    public async Task Each_worker_s_log_holds_its_bytes_exactly_and_the_job_log_holds_them_all()
    {
        // 2 MiB of mixed-size writes to stdout and stderr per worker; no prefix, so the job log's
        // length is the sum of the workers'.
        var result = await Run("CUDA_VISIBLE_DEVICES=0,1").Args("--per-device", "--worker-prefix=off", "--shell",
            Dummy($"interleave 2 {_dir["expect"]}$LOCAL_RANK")).RunAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(0, result.ExitCode);
        long total = 0;
        for (int w = 0; w < 2; w++)
        {
            var expected = File.ReadAllText(_dir[$"expect{w}"]).Split(' ');
            string workerLog = _dir[$"logs/task-worker-{w}.log"];
            Assert.Equal(expected[0], Hashes.OfFile(workerLog));
            Assert.Equal(long.Parse(expected[1]), new FileInfo(workerLog).Length);
            total += new FileInfo(workerLog).Length;
        }
        Assert.Equal(total, new FileInfo(result.LogFile).Length);
        Assert.Contains("[trainlauncher]   output       4.0 MiB", result.Stdout.Split('\n'));
    }

    [Fact]
    public async Task Plan_shows_every_worker_s_variables_and_log()
    {
        var result = await new LauncherRun(_dir).Set("CUDA_VISIBLE_DEVICES", "0,1").Args("plan", "--per-device", "true").RunAsync();

        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        Assert.Contains($"workers: worker 1 (rank 1, device 1): LOCAL_RANK=1 LOCAL_WORLD_SIZE=2 RANK=1 WORLD_SIZE=2 DEVICE_ID=1 RANK_ID=1 RANK_SIZE=2 CUDA_VISIBLE_DEVICES=1 " +
            $"TORCHELASTIC_ERROR_FILE={_dir["home/user-job-dir/torchelastic-error-0-worker-1.json"]}, log {_dir["logs/task-worker-1.log"]}", lines);
    }
}
