using System.Text.Json;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Logging;

/// <summary>SPEC 4 and 3.11: launcher messages as single prefixed lines or one JSON object per line, and the run summary.</summary>
public class LauncherMessageSpecs
{
    [Fact]
    public async Task Json_format_gives_one_parsable_object_per_line_with_the_event_fields()
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Args("--log-format", "json").Dummy("pieces", "0", "plain output\\n").RunAsync();
        Assert.Equal(0, result.ExitCode);

        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("plain output", lines);                     // the command's bytes are not reformatted
        var events = lines.Where(l => l != "plain output").Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(events, e => Assert.True(e.TryGetProperty("@t", out _) && e.TryGetProperty("@m", out _)));
        var exit = Assert.Single(events, e => e.TryGetProperty("ExitCode", out _));
        Assert.Equal(0, exit.GetProperty("ExitCode").GetInt32());
        Assert.Equal("exit status 0", exit.GetProperty("@m").GetString());
        var rss = Assert.Single(events, e => e.TryGetProperty("Item", out var item) && item.GetString() == "peak RSS");
        Assert.EndsWith("(largest child process)", rss.GetProperty("Value").GetString());
    }

    [Fact]
    public async Task Text_format_keeps_every_message_on_one_line()
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Args("no-such\nprogram").RunAsync();
        Assert.Equal(127, result.ExitCode);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.StartsWith("[trainlauncher] ", l));
        Assert.Contains("[trainlauncher] error: command not found: 'no-such program' (looked in PATH)", lines);
    }

    [Fact]
    public async Task The_run_summary_is_an_aligned_table_at_the_end()
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Dummy("kill", "SIGKILL").RunAsync();
        Assert.Equal(137, result.ExitCode);
        var messages = result.Messages.ToList();
        int start = messages.IndexOf("[trainlauncher] run summary:");
        Assert.True(start >= 0, string.Join('\n', messages));
        var rows = messages[(start + 1)..];
        Assert.Equal(["starting", "running", "fetched", "uploaded", "output", "peak RSS", "exit status"],
            rows.Select(r => r["[trainlauncher]   ".Length..][..12].TrimEnd()));
        Assert.All(rows, r => Assert.Equal(' ', r["[trainlauncher]   ".Length + 12]));
        Assert.Matches(@"^\[trainlauncher\]   running      \d+\.\d{3} s$", rows[1]);
        Assert.Matches(@"^\[trainlauncher\]   peak RSS     \d+\.\d MiB \(largest child process\)$", rows[5]);
        Assert.Equal("[trainlauncher]   exit status  137 (signal SIGKILL)", rows[^1]);
    }

    [Fact]
    public async Task A_run_that_never_started_the_command_has_no_peak_RSS()
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Set("DLS_APP_URL", dir["missing"]).Args("true").RunAsync();
        Assert.Equal(127, result.ExitCode);
        Assert.Contains("[trainlauncher]   fetching     ", string.Join('\n', result.Messages));
        Assert.Contains("[trainlauncher]   peak RSS     -", result.Messages);
        Assert.Equal("[trainlauncher]   exit status  127", result.Messages.Last());
    }
}
