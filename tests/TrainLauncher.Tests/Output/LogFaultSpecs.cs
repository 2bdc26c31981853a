using System.Text;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Output;

/// <summary>
/// Issue 12, the log path under faults: a full disk, a log removed under the launcher, a hung
/// `dls-pipe` (during the run or in `append`). None of them changes the command's status, loses the summary or the termination
/// message, or stops stdout for longer than the bound. (A stalled stdout reader and the stop
/// timer: Supervision/SupervisionSpecs.)
/// </summary>
public class LogFaultSpecs
{
    private static LauncherRun Run(TempDir dir) => new LauncherRun(dir).Args("--termination-log", dir["termination"]);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task On_a_full_disk_with_a_failing_log_upload_the_status_stays_and_the_termination_message_shows_the_real_last_line(bool viaPipeTool)
    {
        using var dir = new TempDir();
        using var disk = new SmallTmpfs(dir["disk"]);
        // STANDIN_OBS_ROOT is unset: the log upload fails, and its error cannot be appended either.
        var run = Run(dir).Set("TRAINLAUNCHER_LOG_FILE", Path.Combine(disk.Path, "task.log"))
            .Set("DLS_USE_UPLOADER", "1").Set("DLS_UPLOAD_LOG_OBS_DIR", "obs://bucket/logs");
        if (!viaPipeTool) run.Args("--dls-pipe", "/nonexistent/dls-pipe");
        // About 2 MB of lines into a 1 MiB disk, then the line that matters.
        var result = await run.Args("--shell", "--",
            "i=0; while [ $i -lt 60000 ]; do echo \"filler line $i of the output\"; i=$((i+1)); done; echo 'the real last line'").RunAsync();

        StatusAssert.KeptToTheEnd(result, 0, dir["termination"]);
        Assert.Single(result.Messages, l => l.Contains("warning: the job log stopped taking output") && l.Contains("No space left on device"));
        Assert.Single(result.Messages, l => l.Contains("warning: the log upload failed") && l.Contains("No space left on device"));
        // The memory holds what the log would: the real end, and the upload error it could not take.
        Assert.Contains("filler line 59999 of the output\nthe real last line\nLog upload error: ", File.ReadAllText(dir["termination"]));
        Assert.EndsWith("filler line 59999 of the output\nthe real last line\n", CommandOutput(result));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task On_a_full_disk_a_failed_fetch_keeps_127_and_its_reason_reaches_the_termination_message(bool viaPipeTool)
    {
        using var dir = new TempDir();
        using var disk = new SmallTmpfs(dir["disk"]);
        disk.Fill();
        var run = Run(dir).Set("TRAINLAUNCHER_LOG_FILE", Path.Combine(disk.Path, "task.log")).Set("DLS_APP_URL", dir["missing-code"]);
        if (!viaPipeTool) run.Args("--dls-pipe", "/nonexistent/dls-pipe");
        var result = await run.Args("--shell", "--", "echo never").RunAsync();

        StatusAssert.KeptToTheEnd(result, 127, dir["termination"]);
        Assert.Single(result.Messages, l => l.Contains("warning: the job log stopped taking output") && l.Contains("No space left on device"));
        Assert.Contains("last output:\nApp download error: ", File.ReadAllText(dir["termination"]));
    }

    [Theory]
    [InlineData("rm -rf \"$(dirname \"$LOG\")\"")]
    [InlineData("rm -f \"$LOG\" && mkdir \"$LOG\"")]
    public async Task A_log_removed_under_the_launcher_costs_one_warning_not_the_status(string removal)
    {
        using var dir = new TempDir();
        var run = Run(dir);
        var result = await run.Args("--shell", "--", $"echo before; LOG='{run.LogFile}'; {removal}; echo after; exit 3").RunAsync();

        StatusAssert.KeptToTheEnd(result, 3, dir["termination"]);
        Assert.Single(result.Messages, l => l.Contains("warning:") && l.Contains(run.LogFile));
        Assert.EndsWith("last output:\nbefore\nafter\n", File.ReadAllText(dir["termination"]));
        Assert.Equal("before\nafter\n", CommandOutput(result));
    }

    [Fact]
    public async Task A_dls_pipe_that_takes_nothing_is_taken_over_while_stdout_keeps_flowing()
    {
        using var dir = new TempDir();
        // 1.9 MB, a marker line, 1.9 MB: far more than a pipe holds. The marker is within what the
        // pump reads before the ring would overwrite bytes the tool never took (its 1 MiB pipe + 1 MiB).
        string part = string.Concat(Enumerable.Range(0, 70000).Select(i => $"line {i:D6} of a chatty job\n"));
        var content = Encoding.ASCII.GetBytes(part + "MARKER\n" + part);
        File.WriteAllBytes(dir["content"], content);
        var run = Run(dir).Set("STANDIN_PIPE_STALL_AFTER", "1000").Set("STANDIN_PIPE_STALLED", dir["stalled"])
            .Set("TRAINLAUNCHER_DLS_PIPE_STALL", "5").Dummy("cat", dir["content"]);

        var result = await run.RunAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(Hashes.Of(content), result.LogSha256);
        Assert.Equal(part + "MARKER\n" + part, CommandOutput(result));
        // The marker was on stdout before the launcher gave up on the tool: stdout did not wait for it.
        var lines = result.Stdout.Split('\n');
        int marker = Array.IndexOf(lines, "MARKER");
        int takenOver = Array.FindIndex(lines, l => l.Contains("warning: dls-pipe took nothing for 5 s"));
        Assert.True(marker >= 0 && takenOver > marker, $"marker at line {marker}, take-over at {takenOver}");
        Assert.False(Alive(int.Parse(File.ReadAllText(dir["stalled"]).Trim())), "the hung dls-pipe outlived the launcher");
    }

    [Fact]
    public async Task A_dls_pipe_append_that_hangs_is_ended_and_the_log_upload_error_still_reaches_the_log()
    {
        using var dir = new TempDir();
        // STANDIN_OBS_ROOT is unset: the log upload fails, and `dls-pipe LOG append` then hangs.
        var run = Run(dir).Set("STANDIN_PIPE_APPEND_HANG", "1").Set("TRAINLAUNCHER_DLS_PIPE_STALL", "2")
            .Set("DLS_USE_UPLOADER", "1").Set("DLS_UPLOAD_LOG_OBS_DIR", "obs://bucket/logs");
        var result = await run.Args("--shell", "--", "echo trained").RunAsync(TimeSpan.FromSeconds(90));

        StatusAssert.KeptToTheEnd(result, 0, dir["termination"]);
        Assert.Single(result.Messages, l => l.Contains("warning: dls-pipe took nothing for 2 s"));
        Assert.StartsWith("trained\nLog upload error: ", result.Log);
    }

    /// <summary>stdout without the launcher's own lines: the command's bytes (all end in newlines here).</summary>
    private static string CommandOutput(LauncherResult result) =>
        string.Concat(result.Stdout.Split('\n').SkipLast(1).Where(l => !l.StartsWith("[trainlauncher]", StringComparison.Ordinal)).Select(l => l + "\n"));

    private static bool Alive(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1][0] != 'Z'; }
        catch (IOException) { return false; }
    }
}
