using System.Text.Json;
using TrainLauncher.Tests.Support;
using static TrainLauncher.Tests.Supervision.Supervised;

namespace TrainLauncher.Tests.Data;

/// <summary>`--no-output-timeout` / `--no-output-action` (issue 15) with real silent commands.</summary>
public class HangWatchdogSpecs
{
    private const string Warning = "the command has printed nothing for";

    private static int Count(string text, string what) => text.Split('\n').Count(l => l.Contains(what, StringComparison.Ordinal));

    [Fact]
    public async Task A_silent_command_gets_one_warning_per_silence_status_counts_the_silence_and_the_status_stays_the_commands()
    {
        using var dir = new TempDir();
        int port = Http.FreePort();
        var run = new LauncherRun(dir)
            .Args("--no-output-timeout", "0.3", "--health-port", port.ToString(), "--health-bind", "127.0.0.1", "--shell", "--",
                $"{Repo.Python} {Repo.Dummy} waitfile {dir["a"]}; echo resumed; {Repo.Python} {Repo.Dummy} waitfile {dir["b"]}; exit 3");
        using var launcher = run.Start();
        var collecting = run.CollectAsync(launcher);
        string stdout = dir[$"stdout-{launcher.Id}"];
        string Stdout() => SharedFile.Read(stdout);

        await WaitUntilAsync(() => Count(Stdout(), Warning) == 1, launcher, "the first warning");
        // Long after the warning (ten timeouts of silence, read from /status): still one warning.
        await WaitUntilAsync(() => SecondsSinceOutput(port) > 3, launcher, "3 s of silence");
        Assert.Equal(1, Count(Stdout(), Warning));
        File.WriteAllText(dir["a"], "");
        await WaitUntilAsync(() => Count(Stdout(), Warning) == 2, launcher, "the second silence's warning");
        File.WriteAllText(dir["b"], "");
        var result = await collecting;

        Assert.Equal(3, result.ExitCode);
        Assert.Equal(2, Count(result.Stdout, Warning));
        Assert.Contains("[trainlauncher] warning: the command has printed nothing for 0.3 s (--no-output-timeout); it may be hung", result.Stdout);
        Assert.Contains("resumed", result.Log);
    }

    private static double SecondsSinceOutput(int port)
    {
        var status = Http.StatusAsync(port).GetAwaiter().GetResult();
        return status.GetProperty("seconds_since_output") is { ValueKind: JsonValueKind.Number } s ? s.GetDouble() : 0;
    }

    [Fact]
    public async Task Status_has_no_seconds_since_output_before_the_command_runs()
    {
        using var dir = new TempDir();
        int port = Http.FreePort();
        dir.Write("obs/bucket/code/train.py", "print('hi')\n");
        // A fetch that lasts (the stand-in downloader sleeps): the command has not run yet.
        var run = new LauncherRun(dir).Args("--no-output-timeout", "60", "--health-port", port.ToString(), "--health-bind", "127.0.0.1")
            .Set("DLS_APP_URL", "obs://bucket/code").Set("DLS_USE_DOWNLOADER", "1").Set("STANDIN_OBS_ROOT", dir["obs"])
            .Set("STANDIN_DOWNLOADER_SLEEP", "30").Set("STANDIN_STARTED", dir["started"])
            .Dummy("exit", "0");
        using var launcher = run.Start();
        var collecting = run.CollectAsync(launcher, TimeSpan.FromSeconds(60));
        await WaitForFileAsync(dir["started"], launcher);
        var fetching = await Http.WaitForPhaseAsync(port, "fetching", launcher);
        Assert.True(!fetching.TryGetProperty("seconds_since_output", out var since) || since.ValueKind == JsonValueKind.Null, fetching.ToString());
        TrainLauncher.Tests.Supervision.Signals.Send(launcher.Id, "SIGTERM");
        Assert.Equal(143, (await collecting).ExitCode);
    }

    [Theory]
    [InlineData("trap", 124, "got SIGTERM")]
    [InlineData("stubborn", 124, "did not stop within 0.5 s")]
    public async Task A_hung_command_is_stopped_by_the_stop_sequence_with_124_and_the_termination_message_says_it_hung(string mode, int status, string evidence)
    {
        using var dir = new TempDir();
        var run = new LauncherRun(dir)
            .Args("--no-output-timeout", "0.5", "--no-output-action", "stop", "--stop-grace", "0.5", "--termination-log", dir["termination"])
            .Dummy(mode, dir["ready"]);
        var result = await run.RunAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(status, result.ExitCode);
        Assert.Contains(evidence, result.Stdout);
        Assert.Single(result.Messages, l => l.Contains("it counts as hung and is stopped (--no-output-action stop, status 124)"));
        string message = File.ReadAllText(dir["termination"]);
        Assert.StartsWith("exit status 124 (phase running): the command hung: no output for 0.5 s (--no-output-timeout), stopped by --no-output-action stop; it ended with signal", message);
        Assert.Contains("[trainlauncher]   exit status  124 (signal", result.Stdout);
    }

    [Fact]
    public async Task Without_the_option_the_plan_says_no_hang_watch()
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Args("plan", "true").RunAsync();
        Assert.Equal(0, result.ExitCode);
        Assert.Contains(result.Stdout.Split('\n'), l => l.StartsWith("hang watch:", StringComparison.Ordinal) && l.Contains("off"));
    }
}
