using System.Text.Json;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Supervision;

/// <summary>
/// Issue 12, with a real pseudo-terminal (tests/tools/pty_drive.py): when stdin is the terminal,
/// the command's group is its foreground group, so an interactive command reads it instead of
/// stopping on SIGTTIN (before: the command stopped and the launcher waited forever); Ctrl-Z
/// stops the launcher too, and after SIGCONT the command has the terminal again.
/// </summary>
public class TerminalSpecs
{
    private static readonly string Driver = Path.Combine(Repo.Root, "tests/tools/pty_drive.py");

    [Theory]
    [InlineData(Mode.Child)]
    [InlineData(Mode.Pid1)]
    public async Task An_interactive_command_owns_the_terminal_and_reads_it(Mode mode)
    {
        using var dir = new TempDir();
        var drive = await DriveAsync(dir, "input", mode);

        Assert.Empty(drive.Events);
        Assert.Contains("foreground yes\n", drive.Output);
        Assert.Contains("read: hello\n", drive.Output);
        Assert.Equal(0, drive.Status);
    }

    [Fact]
    public async Task After_ctrl_z_the_launcher_stops_too_and_after_SIGCONT_the_command_has_the_terminal_again()
    {
        using var dir = new TempDir();
        var drive = await DriveAsync(dir, "suspend", Mode.Child);

        Assert.Equal(["launcher stopped", "command in the foreground again"], drive.Events);
        Assert.Contains("read: hello\n", drive.Output);
        Assert.Equal(0, drive.Status);
    }

    private sealed record Drive(int Status, string Output, List<string> Events);

    private static async Task<Drive> DriveAsync(TempDir dir, string scenario, Mode mode)
    {
        string[] wrapper = [Repo.Python, Driver, scenario, "--", .. mode == Mode.Pid1 ? new[] { "/usr/bin/unshare", "--pid", "--fork", "--mount-proc" } : []];
        var run = new LauncherRun(dir).Dummy("tty");
        using var process = run.Start(wrapper);
        var result = await run.CollectAsync(process, TimeSpan.FromSeconds(120));
        Assert.True(result.ExitCode == 0, $"the driver failed: {run.Stderr}");
        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;
        return new Drive(root.GetProperty("status").GetInt32(), root.GetProperty("output").GetString()!,
            [.. root.GetProperty("events").EnumerateArray().Select(e => e.GetString()!)]);
    }
}
