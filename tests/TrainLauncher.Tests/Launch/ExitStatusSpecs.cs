using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Launch;

/// <summary>SPEC 10: every status a run can end with, each with its one clear line.</summary>
public class ExitStatusSpecs
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(42)]
    [InlineData(255)]
    public async Task The_command_s_own_status_passes_through(int status)
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Dummy("exit", status.ToString()).RunAsync();
        Assert.Equal(status, result.ExitCode);
    }

    [Theory]
    [InlineData("SIGKILL", 137)]
    [InlineData("SIGTERM", 143)]
    [InlineData("SIGSEGV", 139)]
    public async Task A_command_killed_by_a_signal_gives_128_plus_N(string signal, int expected)
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Dummy("kill", signal).RunAsync();
        Assert.Equal(expected, result.ExitCode);
    }

    [Fact]
    public async Task A_command_that_does_not_exist_gives_127_and_says_so()
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Args("no-such-program-xyz", "arg").RunAsync();
        Assert.Equal(127, result.ExitCode);
        Assert.Contains(result.Messages, l => l.Contains("command not found: 'no-such-program-xyz'"));
    }

    [Fact]
    public async Task A_file_that_is_not_executable_gives_126()
    {
        using var dir = new TempDir();
        var script = dir.Write("home/user-job-dir/train.sh", "#!/bin/sh\necho hi\n");
        var result = await new LauncherRun(dir).Args("./train.sh").RunAsync();
        Assert.Equal(126, result.ExitCode);
        Assert.Contains(result.Messages, l => l.Contains("not executable"));
    }

    /// <summary>run_train.sh ran it with bash, which runs a file without "#!" as a shell script
    /// (ENOEXEC): so does the launcher, with /bin/sh, with or without stdbuf in front.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_script_without_a_shebang_runs_under_bin_sh(bool stdbuf)
    {
        using var dir = new TempDir();
        var script = dir.Write("home/user-job-dir/run.sh", "echo \"script ran with $1\"\nexit 4\n");
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        var run = new LauncherRun(dir);
        if (!stdbuf) run.Args("--no-stdbuf");
        var result = await run.Args("./run.sh", "arg").RunAsync();
        Assert.Equal(4, result.ExitCode);
        Assert.Contains("script ran with arg\n", result.Stdout);
    }

    [Fact]
    public async Task A_script_whose_interpreter_is_missing_gives_127_and_the_reason()
    {
        using var dir = new TempDir();
        var script = dir.Write("home/user-job-dir/run.sh", "#!/no/such/interpreter\necho hi\n");
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        var result = await new LauncherRun(dir).Args("--no-stdbuf", "./run.sh").RunAsync();
        Assert.Equal(127, result.ExitCode);
        Assert.Contains(result.Messages, l => l.Contains("cannot start") && l.Contains("run.sh: No such file or directory"));
    }

    [Fact]
    public async Task A_directory_as_the_command_gives_126()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["home/user-job-dir/code"]);
        var result = await new LauncherRun(dir).Args("./code").RunAsync();
        Assert.Equal(126, result.ExitCode);
        Assert.Contains(result.Messages, l => l.Contains("a directory"));
    }

    [Fact]
    public async Task A_failed_fetch_gives_127_and_the_command_never_runs()
    {
        using var dir = new TempDir();
        var marker = dir["ran"];
        var result = await new LauncherRun(dir).Set("DLS_APP_URL", dir["missing-code"])
            .Args("--shell", "touch", marker).RunAsync();
        Assert.Equal(127, result.ExitCode);
        Assert.False(File.Exists(marker));
        Assert.StartsWith("App download error: ", result.Log);
    }

    [Fact]
    public async Task A_launcher_failure_before_start_gives_125_with_one_error_line()
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Args("--stop-grace", "soon", "true").RunAsync();
        Assert.Equal(125, result.ExitCode);
        var line = Assert.Single(result.Messages);
        Assert.Equal("[trainlauncher] error: --stop-grace must be a number of seconds >= 0, got 'soon'", line);
    }

    [Fact]
    public async Task Shell_mode_runs_shell_syntax()
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Args("--shell", "--", "echo", "a", "&&", "exit", "7").RunAsync();
        Assert.Equal(7, result.ExitCode);
        Assert.Equal("a\n", result.Log);
    }

    [Fact]
    public async Task Without_shell_mode_argv_is_passed_unchanged()
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Args("--log-level", "error", "printf", "%s|", "a b", "$HOME", "*", "&&").RunAsync();
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("a b|$HOME|*|&&|", result.Stdout);
    }
}
