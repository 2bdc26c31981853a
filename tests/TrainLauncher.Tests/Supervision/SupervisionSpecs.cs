using System.Diagnostics;
using TrainLauncher.Tests.Support;
using static TrainLauncher.Tests.Supervision.Supervised;

namespace TrainLauncher.Tests.Supervision;

/// <summary>
/// SPEC 8 with real processes: signals reach the command's whole group, the grace ends in
/// SIGKILL and the upload still runs, orphans are reaped, daemons do not outlive the run, and a
/// stop during fetch or decryption starts nothing. The signal, orphan and daemon scenarios also
/// run against tini (`tini -s -g`), the bar the issue sets; where tini differs, the test says so.
/// </summary>
public class SupervisionSpecs
{
    public static TheoryData<string, Mode, string> SignalCases()
    {
        var data = new TheoryData<string, Mode, string>();
        foreach (var supervisor in new[] { "launcher", "tini" })
            foreach (var mode in new[] { Mode.Child, Mode.Pid1 })
                foreach (var signal in new[] { "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2" })
                    data.Add(supervisor, mode, signal);
        return data;
    }

    [Theory]
    [MemberData(nameof(SignalCases))]
    public async Task Each_forwarded_signal_reaches_the_command_and_its_grandchild(string supervisor, Mode mode, string signal)
    {
        using var dir = new TempDir();
        var run = new LauncherRun(dir).Dummy("family", dir["ready"]);
        using var process = Start(run, supervisor, mode);
        var collecting = run.CollectAsync(process, TimeSpan.FromSeconds(60));
        await WaitForFileAsync(dir["ready"], process);

        Signals.Send(SupervisorPid(process, mode), signal);
        bool stops = signal is not ("SIGUSR1" or "SIGUSR2");
        if (!stops)
        {
            // The command lives on: once both handlers have spoken, end it.
            string output = supervisor == "launcher" ? run.LogFile : null!;
            await WaitUntilAsync(() => supervisor == "launcher"
                ? File.Exists(output) && File.ReadAllText(output).Contains($"grandchild got {signal}") && File.ReadAllLines(output).Contains($"got {signal}")
                : true, process);
            if (supervisor == "tini") await Task.Delay(500); // tini's output is only readable at the end
            Signals.Send(SupervisorPid(process, mode), "SIGTERM");
        }
        var result = await collecting;

        string text = supervisor == "launcher" ? result.Log : result.Stdout;
        Assert.Contains($"got {signal}\n", text.Replace($"grandchild got {signal}\n", ""));
        // tini as PID 1 exits as soon as the command does, and the kernel then SIGKILLs the whole
        // namespace, which can beat the grandchild's handler; the launcher gives the group time.
        if (!(supervisor == "tini" && mode == Mode.Pid1 && stops)) Assert.Contains($"grandchild got {signal}\n", text);
        Assert.Equal(128 + Signals.Number(stops ? signal : "SIGTERM"), result.ExitCode);
    }

    [Theory]
    [InlineData(Mode.Child)]
    [InlineData(Mode.Pid1)]
    public async Task A_command_ignoring_SIGTERM_is_killed_after_the_grace_and_a_second_signal_does_not_skip_the_upload(Mode mode)
    {
        using var dir = new TempDir();
        var run = WithLogUpload(new LauncherRun(dir), dir).Args("--stop-grace", "1").Dummy("stubborn", dir["ready"]);
        using var process = Start(run, "launcher", mode);
        var collecting = run.CollectAsync(process, TimeSpan.FromSeconds(60));
        await WaitForFileAsync(dir["ready"], process);

        Signals.Send(SupervisorPid(process, mode), "SIGTERM");
        await Task.Delay(300); // inside the 1 s grace
        Signals.Send(SupervisorPid(process, mode), "SIGINT");
        var result = await collecting;

        Assert.Equal(137, result.ExitCode);
        Assert.Contains(result.Messages, l => l.Contains("did not stop within 1 s"));
        Assert.True(Directory.GetFiles(dir["obs/b/logs"], "task.log", SearchOption.AllDirectories).Length == 1, "the log upload did not run:\n" + result.Stdout);
    }

    [Theory]
    [InlineData("launcher", Mode.Child)]
    [InlineData("launcher", Mode.Pid1)]
    [InlineData("tini", Mode.Child)]
    [InlineData("tini", Mode.Pid1)]
    public async Task A_thousand_orphans_that_exit_leave_no_zombie(string supervisor, Mode mode)
    {
        using var dir = new TempDir();
        var run = new LauncherRun(dir).Dummy("orphans", "1000");
        using var process = Start(run, supervisor, mode);
        var result = await run.CollectAsync(process, TimeSpan.FromSeconds(120));

        // The command counts, from /proc, while it still runs: zombies whose parent is its own
        // parent (where orphans land) and, inside the namespace, zombies anywhere.
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("zombies parent=0 ", result.Stdout);
        if (mode == Mode.Pid1) Assert.Contains("zombies parent=0 all=0\n", result.Stdout);
    }

    [Theory]
    [InlineData(Mode.Child)]
    [InlineData(Mode.Pid1)]
    public async Task A_double_forked_daemon_is_gone_before_the_log_upload(Mode mode)
    {
        using var dir = new TempDir();
        // The upload tool runs in the launcher's namespace after the command: it records whether
        // the daemon is still there, which also means something when the namespace is about to end.
        string real = Path.Combine(Repo.StandInTools, "dls-downloader");
        WaitingTool.Script(dir, "dls-downloader",
            $"if kill -0 \"$(cat '{dir["daemon.pid"]}')\" 2>/dev/null; then echo alive; else echo gone; fi > '{dir["daemon.at-upload"]}'\nexec '{real}' \"$@\"\n");
        var run = WithLogUpload(new LauncherRun(dir), dir).Dummy("daemon", dir["daemon.pid"]);
        run.Env["PATH"] = $"{dir["tools"]}:{run.Env["PATH"]}";
        using var process = Start(run, "launcher", mode);
        var result = await run.CollectAsync(process, TimeSpan.FromSeconds(60));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("gone\n", File.ReadAllText(dir["daemon.at-upload"]));
        if (mode == Mode.Child) Assert.False(IsAlive(int.Parse(File.ReadAllText(dir["daemon.pid"]))));
    }

    /// <summary>tini only signals and reaps: as an ordinary process it exits when its child does and
    /// the daemon lives on (as PID 1 the kernel ends it with the namespace). The launcher kills it.</summary>
    [Theory]
    [InlineData(Mode.Child, true)]
    [InlineData(Mode.Pid1, false)]
    public async Task Tini_leaves_a_double_forked_daemon_running_unless_it_is_PID_1(Mode mode, bool survives)
    {
        using var dir = new TempDir();
        var run = new LauncherRun(dir).Dummy("daemon", dir["daemon.pid"]);
        using var process = Start(run, "tini", mode);
        var result = await run.CollectAsync(process, TimeSpan.FromSeconds(60));
        Assert.Equal(0, result.ExitCode);
        if (mode == Mode.Pid1) return; // its pid is the namespace's: nothing to look at from here
        int pid = int.Parse(File.ReadAllText(dir["daemon.pid"]));
        try { Assert.Equal(survives, IsAlive(pid)); }
        finally { if (IsAlive(pid)) Process.GetProcessById(pid).Kill(); }
    }

    [Theory]
    [InlineData(Mode.Child, "SIGTERM")]
    [InlineData(Mode.Pid1, "SIGTERM")]
    [InlineData(Mode.Child, "SIGINT")]
    public async Task A_stop_signal_during_the_fetch_leaves_no_code_dir_and_runs_nothing(Mode mode, string signal)
    {
        using var dir = new TempDir();
        dir.Write("obs/bucket/code/train.py", "print('hi')\n");
        var run = new LauncherRun(dir)
            .Set("DLS_APP_URL", "obs://bucket/code").Set("DLS_USE_DOWNLOADER", "1").Set("STANDIN_OBS_ROOT", dir["obs"])
            .Set("STANDIN_DOWNLOADER_SLEEP", "30").Set("STANDIN_STARTED", dir["started"])
            .Dummy("exit", "0");
        using var process = Start(run, "launcher", mode);
        var collecting = run.CollectAsync(process, TimeSpan.FromSeconds(60));
        await WaitForFileAsync(dir["started"], process);

        Signals.Send(SupervisorPid(process, mode), signal);
        var result = await collecting;

        Assert.Equal(128 + Signals.Number(signal), result.ExitCode);
        Assert.Contains(result.Messages, l => l.Contains("the command was not started"));
        Assert.DoesNotContain(result.Messages, l => l.Contains("command ended"));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(run.JobDir), e => Path.GetFileName(e) is "code" || Path.GetFileName(e).StartsWith(".trainlauncher-fetch-"));
    }

    [Theory]
    [InlineData(Mode.Child)]
    [InlineData(Mode.Pid1)]
    public async Task A_stop_signal_during_decryption_runs_nothing(Mode mode)
    {
        using var dir = new TempDir();
        var run = new LauncherRun(dir)
            .Set("DLS_DECRYPTOR_KEY_FILE", dir.Write("key", "standin-key\n"))
            .Set("DLS_AES__DB_PASSWORD", Cipher.Encrypt("secret"))
            .Set("STANDIN_DECRYPT_SLEEP", "30").Set("STANDIN_STARTED", dir["started"])
            .Dummy("exit", "0");
        using var process = Start(run, "launcher", mode);
        var collecting = run.CollectAsync(process, TimeSpan.FromSeconds(60));
        await WaitForFileAsync(dir["started"], process);

        Signals.Send(SupervisorPid(process, mode), "SIGTERM");
        var result = await collecting;

        Assert.Equal(143, result.ExitCode);
        Assert.Contains(result.Messages, l => l.Contains("stopped by SIGTERM during") && l.Contains("the command was not started"));
        Assert.DoesNotContain(result.Messages, l => l.Contains("command ended"));
    }

    /// <summary>Issue 12: `bash -c 'python3 train.py; echo after'` and SIGTERM. bash dies at once;
    /// python's handler writes a checkpoint for 3 s. It gets the whole grace and one SIGTERM
    /// (before: a second SIGTERM 100 ms after bash's exit and SIGKILL at 2 s).</summary>
    [Theory]
    [InlineData(Mode.Child)]
    [InlineData(Mode.Pid1)]
    public async Task After_a_stop_signal_a_shell_wrapped_child_gets_the_whole_grace_and_one_SIGTERM(Mode mode)
    {
        using var dir = new TempDir();
        var result = await SigtermDuringCheckpointAsync(dir, mode, "{train}; echo after");

        Assert.Equal("got SIGTERM\ncheckpoint written\n", File.ReadAllText(dir["got"]));
        Assert.Equal(143, result.ExitCode); // bash's own end: killed by SIGTERM
        Assert.DoesNotContain("after", result.Stdout.Split('\n'));
        Assert.DoesNotContain(result.Messages, l => l.Contains("did not stop within"));
    }

    /// <summary>A setsid daemon outside the command's group, adopted by the launcher when its
    /// parent (the command) dies of the SIGTERM: it gets it too, once, when found.</summary>
    [Theory]
    [InlineData(Mode.Child)]
    [InlineData(Mode.Pid1)]
    public async Task A_process_the_launcher_adopted_gets_the_stop_signal_once_and_the_whole_grace(Mode mode)
    {
        using var dir = new TempDir();
        var result = await SigtermDuringCheckpointAsync(dir, mode, $"setsid {{train}} & while [ ! -e '{dir["ready"]}' ]; do sleep 0.02; done; exec sleep 600");

        Assert.Equal("got SIGTERM\ncheckpoint written\n", File.ReadAllText(dir["got"]));
        Assert.Equal(143, result.ExitCode);
    }

    [Fact]
    public async Task A_launcher_killed_with_SIGKILL_takes_the_command_with_it()
    {
        using var dir = new TempDir();
        var (process, collecting) = await StartWithCommandPidAsync(dir, Mode.Child);
        using var _ = process;
        int command = ReadPid(dir["command.pid"]);
        try
        {
            Signals.Send(process.Id, "SIGKILL");
            await collecting;
            await WaitUntilAsync(() => !IsAlive(command), null, "the command was gone");
        }
        finally
        {
            if (IsAlive(command)) Signals.Send(command, "SIGKILL");
        }
    }

    /// <summary>Run as an ordinary user, so that /proc shows it: a non-dumpable process's /proc
    /// files belong to root, and another process of the same user cannot read its environment.</summary>
    [Fact]
    public async Task The_launcher_is_not_dumpable_and_has_no_core_limit_while_the_command_keeps_its_own()
    {
        using var dir = new TempDir();
        File.SetUnixFileMode(dir.Path, (UnixFileMode)0b111_111_111);
        var run = new LauncherRun(dir).Dummy("pid", dir["command.pid"]);
        const string nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups";
        using var process = run.Start("/bin/bash", "-c", $"ulimit -c unlimited; exec {nobody} -- \"$@\"", "bash");
        var collecting = run.CollectAsync(process, TimeSpan.FromSeconds(60));
        await WaitForFileAsync(dir["command.pid"], process);
        int command = ReadPid(dir["command.pid"]);
        try
        {
            Assert.Equal(65534, Owner($"/proc/{process.Id}/status", "Uid:"));
            Assert.Equal(0, FileOwner($"/proc/{process.Id}/environ"));
            Assert.Equal("0", CoreLimit(process.Id));
            Assert.False(ReadableBy(nobody, $"/proc/{process.Id}/environ"), "a process of the same user read the launcher's environment");

            Assert.Equal(65534, FileOwner($"/proc/{command}/environ"));
            Assert.Equal("unlimited", CoreLimit(command));
            Assert.True(ReadableBy(nobody, $"/proc/{command}/environ"));
        }
        finally
        {
            Signals.Send(command, "SIGTERM");
            await collecting;
        }
    }

    /// <summary>The stop timer must not wait for a log line: here stdout is a pipe nobody reads,
    /// full, so every line blocks; the command ignores SIGTERM. It is killed after the grace.</summary>
    [Fact]
    public async Task The_SIGKILL_after_the_grace_comes_even_when_stdout_is_stalled()
    {
        using var dir = new TempDir();
        var run = new LauncherRun(dir).Args("--stop-grace", "1").Dummy("flood", dir["command.pid"]);
        using var process = run.Start(); // stdout redirected and not read yet
        await WaitForFileAsync(dir["command.pid"], process);
        int command = ReadPid(dir["command.pid"]);
        try
        {
            // The command blocks writing once the launcher stopped reading: its stdout is full.
            await WaitUntilAsync(() => File.ReadAllText($"/proc/{command}/wchan").Contains("pipe_write"), process, "the command blocked on a full pipe");
            Signals.Send(process.Id, "SIGTERM");
            await WaitUntilAsync(() => !IsAlive(command), process, "the command was killed");
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        finally
        {
            if (IsAlive(command)) Signals.Send(command, "SIGKILL");
        }
        var result = await run.CollectAsync(process, TimeSpan.FromSeconds(60));
        Assert.Equal(137, result.ExitCode);
    }

    /// <summary>A parent that ignores SIGCHLD passes that on through exec; the kernel would then
    /// reap the command itself and waitpid fail (before: "No child processes", a crash, 134).</summary>
    [Fact]
    public async Task A_launcher_started_with_SIGCHLD_ignored_still_reports_the_command_status()
    {
        using var dir = new TempDir();
        var run = new LauncherRun(dir).Dummy("exit", "3");
        using var process = run.Start(Repo.Python, "-c", "import os, signal, sys; signal.signal(signal.SIGCHLD, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])");
        var result = await run.CollectAsync(process, TimeSpan.FromSeconds(60));

        Assert.Equal(3, result.ExitCode);
        Assert.Contains(result.Messages, l => l.Contains("run summary"));
    }

    [Theory]
    [InlineData(Mode.Child)]
    [InlineData(Mode.Pid1)]
    public async Task SIGTSTP_stops_the_command_and_the_launcher_and_SIGCONT_resumes_both(Mode mode)
    {
        using var dir = new TempDir();
        var (process, collecting) = await StartWithCommandPidAsync(dir, mode);
        using var _ = process;
        int launcher = LauncherPid(process, mode);
        int command = Children(launcher).Single(pid => File.ReadAllText($"/proc/{pid}/cmdline").Contains("dummy.py"));

        Signals.Send(SupervisorPid(process, mode), "SIGTSTP");
        await WaitUntilAsync(() => State(command) == 'T' && State(launcher) == 'T', process, "both stopped");
        Signals.Send(SupervisorPid(process, mode), "SIGCONT");
        await WaitUntilAsync(() => State(command) != 'T' && State(launcher) != 'T', process, "both running again");
        Signals.Send(SupervisorPid(process, mode), "SIGTERM");
        var result = await collecting;

        Assert.Equal(143, result.ExitCode);
    }

    [Fact]
    public async Task Every_thread_of_the_launcher_blocks_the_signals_it_forwards()
    {
        using var dir = new TempDir();
        var (process, collecting) = await StartWithCommandPidAsync(dir, Mode.Child);
        using var _ = process;
        try
        {
            ulong owned = Enumerable.Range(1, 31).Except([8, 9, 11, 17, 19]).Aggregate(0UL, (mask, s) => mask | 1UL << (s - 1));
            foreach (var task in Directory.GetDirectories($"/proc/{process.Id}/task"))
            {
                var status = File.ReadAllLines(Path.Combine(task, "status"));
                ulong blocked = Convert.ToUInt64(status.Single(l => l.StartsWith("SigBlk:"))[7..].Trim(), 16);
                Assert.True((blocked & owned) == owned, $"thread {File.ReadAllText(Path.Combine(task, "comm")).Trim()} blocks {blocked:x16}");
            }
        }
        finally
        {
            Signals.Send(ReadPid(dir["command.pid"]), "SIGTERM");
            await collecting;
        }
    }

    /// <summary>`bash -c SCRIPT` under the launcher with a 60 s grace, {train} in SCRIPT being
    /// the dummy that writes a 3 s checkpoint on SIGTERM; one SIGTERM once the dummy is ready.</summary>
    private static async Task<LauncherResult> SigtermDuringCheckpointAsync(TempDir dir, Mode mode, string script)
    {
        string train = $"'{Repo.Python}' '{Repo.Dummy}' checkpoint '{dir["ready"]}' '{dir["got"]}' 3";
        var run = new LauncherRun(dir).Args("--stop-grace", "60", "--", "bash", "-c", script.Replace("{train}", train));
        using var process = Start(run, "launcher", mode);
        var collecting = run.CollectAsync(process, TimeSpan.FromSeconds(90));
        await WaitForFileAsync(dir["ready"], process);
        Signals.Send(SupervisorPid(process, mode), "SIGTERM");
        return await collecting;
    }

    /// <summary>The launcher running `dummy.py pid`, once the command has written its pid file.</summary>
    private static async Task<(Process Process, Task<LauncherResult> Collecting)> StartWithCommandPidAsync(TempDir dir, Mode mode)
    {
        var run = new LauncherRun(dir).Dummy("pid", dir["command.pid"]);
        var process = Start(run, "launcher", mode);
        var collecting = run.CollectAsync(process, TimeSpan.FromSeconds(60));
        await WaitForFileAsync(dir["command.pid"], process);
        return (process, collecting);
    }

    private static int Owner(string statusFile, string field) =>
        int.Parse(File.ReadAllLines(statusFile).Single(l => l.StartsWith(field)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1]);

    private static int FileOwner(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%u", path]) { RedirectStandardOutput = true })!;
        string uid = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return int.Parse(uid);
    }

    /// <summary>The soft "Max core file size" of /proc/PID/limits.</summary>
    private static string CoreLimit(int pid) =>
        File.ReadAllLines($"/proc/{pid}/limits").Single(l => l.StartsWith("Max core file size")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[4];

    private static bool ReadableBy(string asUser, string path)
    {
        var info = new ProcessStartInfo("/bin/bash", ["-c", $"exec {asUser} -- cat '{path}' >/dev/null 2>&1"]);
        using var cat = Process.Start(info)!;
        cat.WaitForExit();
        return cat.ExitCode == 0;
    }

    private static LauncherRun WithLogUpload(LauncherRun run, TempDir dir)
    {
        Directory.CreateDirectory(dir["obs/b/logs"]);
        return run.Set("DLS_USE_UPLOADER", "1").Set("DLS_UPLOAD_LOG_OBS_DIR", "obs://b/logs").Set("STANDIN_OBS_ROOT", dir["obs"]);
    }
}
