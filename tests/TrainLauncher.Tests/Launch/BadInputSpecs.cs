using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Launch;

/// <summary>Every variable and option the core reads, malformed: one clear line, the right
/// status, and nothing half-done left behind (no job dir, no log file).</summary>
public class BadInputSpecs
{
    public static TheoryData<string[], string> BadOptions => new()
    {
        { ["--stop-grace", "-1", "true"], "--stop-grace must be a number of seconds >= 0, got '-1'" },
        { ["--log-level", "loud", "true"], "--log-level must be debug, info, warning or error, got 'loud'" },
        { ["--log-format", "xml", "true"], "--log-format must be text or json, got 'xml'" },
        { ["--shell=maybe", "true"], "--shell must be true or false (1/0), got 'maybe'" },
        { ["--tf-port", "70000", "true"], "--tf-port must be a port number 1..65535, got '70000'" },
        { ["--wait-hosts", "forever", "true"], "--wait-hosts must be a number of seconds >= 0, got 'forever'" },
        { ["--downloader", "ftp", "true"], "--downloader must be auto, tool or builtin, got 'ftp'" },
        { ["--gpus", "", "true"], "--gpus needs a list of device indexes like 0,2" },
        { ["--dls-pipe", "", "true"], "--dls-pipe must name a tool or its path, got an empty value" },
        { ["--no-output-timeout", "soon", "true"], "--no-output-timeout must be a number of seconds >= 0, got 'soon'" },
        { ["--no-output-timeout", "-5", "true"], "--no-output-timeout must be a number of seconds >= 0, got '-5'" },
        { ["--no-output-action", "kill", "true"], "--no-output-action must be warn or stop, got 'kill'" },
        { ["--requirements", "", "true"], "--requirements must be auto, off or a requirements file, got ''" },
        { ["--dls-pipe-stall", "3e6", "true"], "--dls-pipe-stall must be at most 2147483 seconds (24 days), got '3e6'" },
        { ["--checkpoint-every", "1e300", "true"], "--checkpoint-every must be at most 2147483 seconds (24 days), got '1e300'" },
        { ["--no-output-timeout", "5e6", "true"], "--no-output-timeout must be at most 2147483 seconds (24 days), got '5e6'" },
        { ["--dls-pipe-stall", "0", "true"], "--dls-pipe-stall must be a number of seconds > 0, got '0'" },
        { ["--dls-pipe-stall", "a while", "true"], "--dls-pipe-stall must be a number of seconds > 0, got 'a while'" },
        { ["--checkpoint-every", "0", "true"], "--checkpoint-every must be a number of seconds > 0, got '0'" },
        { ["--checkpoint-every", "NaN", "true"], "--checkpoint-every must be a number of seconds > 0, got 'NaN'" },
        { ["--checkpoint-delete=sometimes", "true"], "--checkpoint-delete must be true or false (1/0), got 'sometimes'" },
        { ["--per-device=each", "true"], "--per-device must be own (or true, 1), shared or off (false, 0), got 'each'" },
        { ["--worker-prefix=sometimes", "true"], "--worker-prefix must be true or false (1/0), got 'sometimes'" },
        { ["--no-such-option", "true"], "unknown option '--no-such-option': see 'trainlauncher --help'" },
        { ["-x", "true"], "unknown option '-x': launcher options are long (--name); put the command after '--' if it starts with '-'" },
        { ["--log-file"], "option '--log-file' needs a value" },
        { [], "no command given: usage 'trainlauncher [OPTIONS] [--] COMMAND [ARG...]'" },
        { ["--shell", "--"], "no command given: usage 'trainlauncher [OPTIONS] [--] COMMAND [ARG...]'" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public async Task A_malformed_option_gives_125_and_one_line(string[] args, string message)
    {
        using var dir = new TempDir();
        var run = new LauncherRun(dir).Args(args);
        var result = await run.RunAsync();
        Assert.Equal(125, result.ExitCode);
        Assert.Equal($"[trainlauncher] error: {message}", Assert.Single(result.Messages));
        Assert.False(Directory.Exists(run.JobDir));
        Assert.False(File.Exists(run.LogFile));
    }

    [Fact]
    public async Task A_malformed_option_in_the_environment_names_the_variable()
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Set("TRAINLAUNCHER_STOP_GRACE", "abc").Args("true").RunAsync();
        Assert.Equal(125, result.ExitCode);
        Assert.Contains(result.Messages, l => l.Contains("TRAINLAUNCHER_STOP_GRACE must be a number of seconds >= 0, got 'abc'"));
    }

    [Theory]
    [InlineData("TRAINLAUNCHER_LOG_LEVEL", "loud\n[trainlauncher] exit status 0", @"TRAINLAUNCHER_LOG_LEVEL must be debug, info, warning or error, got 'loud\n[trainlauncher] exit status 0'")]
    [InlineData("TRAINLAUNCHER_HEALTH_BIND", "::\r\u001b[2K", @"TRAINLAUNCHER_HEALTH_BIND must be an IP address such as 0.0.0.0, 127.0.0.1 or ::, got '::\r\x1b[2K'")]
    [InlineData("TRAINLAUNCHER_PER_DEVICE", "2\n[trainlauncher] exit status 0", @"TRAINLAUNCHER_PER_DEVICE must be own (or true, 1), shared or off (false, 0), got '2\n[trainlauncher] exit status 0'")]
    [InlineData("TRAINLAUNCHER_WORKER_PREFIX", "rank", @"TRAINLAUNCHER_WORKER_PREFIX must be true or false (1/0), got 'rank'")]
    [InlineData("DLS_TASK_INDEX", "1\n2", @"DLS_TASK_INDEX must be a whole number >= 0, got '1\n2'")]
    public async Task A_malformed_value_with_control_characters_is_one_escaped_line(string variable, string value, string message)
    {
        // Found by the options fuzz target: the value went raw into the message, so its newline forged a second line.
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Set(variable, value).Args("true").RunAsync();
        Assert.Equal(125, result.ExitCode);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"[trainlauncher] error: {message}", Assert.Single(lines, l => l.Contains("error:", StringComparison.Ordinal)));
        Assert.All(lines, l => Assert.StartsWith("[trainlauncher] ", l)); // `true` prints nothing: every line is the launcher's own
        Assert.DoesNotContain("[trainlauncher] exit status 0", lines);
    }

    [Fact]
    public async Task The_command_line_wins_over_the_environment()
    {
        using var dir = new TempDir();
        // An option given on the command line replaces its environment form unread: a bad value
        // there (say, baked into the image) does not stop a job that overrides it.
        var result = await new LauncherRun(dir).Set("TRAINLAUNCHER_LOG_LEVEL", "loud").Args("--log-level", "error", "true").RunAsync();
        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain(result.Messages, l => l.Contains(" user: ")); // error level: no header
        var ok = await new LauncherRun(dir).Set("TRAINLAUNCHER_SHELL", "0").Args("--shell", "exit 3").RunAsync();
        Assert.Equal(3, ok.ExitCode);
        // Not overridden, the bad value is still refused.
        var refused = await new LauncherRun(dir).Set("TRAINLAUNCHER_LOG_LEVEL", "loud").Args("true").RunAsync();
        Assert.Equal(125, refused.ExitCode);
        Assert.Contains(refused.Messages, l => l.Contains("TRAINLAUNCHER_LOG_LEVEL"));
    }

    public static TheoryData<string, string, int, string> BadVariables => new()
    {
        { "DLS_TASK_INDEX", "abc", 125, "DLS_TASK_INDEX must be a whole number >= 0, got 'abc'" },
        { "DLS_TASK_INDEX", "-1", 125, "DLS_TASK_INDEX must be a whole number >= 0, got '-1'" },
        { "DLS_APP_URL", "ftp://host/code", 125, "DLS_APP_URL has an unknown scheme 'ftp://'" },
        { "DLS_APP_URL", "file://otherhost/code", 125, "is not a local file:// URL" },
        { "DLS_APP_URL", "obs://", 125, "DLS_APP_URL: malformed object storage URL 'obs://'" },
        { "DLS_APP_URL", "/", 125, "names no directory to fetch" },
        { "DLS_USE_UPLOADER", "1", 125, "DLS_USE_UPLOADER asks for a log upload but DLS_UPLOAD_LOG_OBS_DIR is empty" },
        { "DLS_TASK_NUMBER", "x", 125, "DLS_TASK_NUMBER" },
    };

    [Theory]
    [MemberData(nameof(BadVariables))]
    public async Task A_malformed_platform_variable_gives_its_status_and_one_line(string name, string value, int status, string message)
    {
        using var dir = new TempDir();
        var run = new LauncherRun(dir).Set(name, value).Args("true");
        var result = await run.RunAsync();
        Assert.Equal(status, result.ExitCode);
        var error = Assert.Single(result.Messages, l => l.Contains("error:"));
        Assert.Contains(message, error);
        Assert.False(Directory.Exists(run.JobDir));
    }

    [Fact]
    public async Task A_job_dir_that_cannot_be_created_gives_125()
    {
        using var dir = new TempDir();
        var file = dir.Write("not-a-dir", "x");
        var result = await new LauncherRun(dir).Set("DLS_USER_JOB_DIR", file + "/job").Args("true").RunAsync();
        Assert.Equal(125, result.ExitCode);
        Assert.Contains(result.Messages, l => l.Contains("cannot use the job dir") && l.Contains("DLS_USER_JOB_DIR"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_log_file_that_cannot_be_created_gives_125(bool viaPipeTool)
    {
        using var dir = new TempDir();
        var file = dir.Write("not-a-dir", "x");
        var run = new LauncherRun(dir).Set("TRAINLAUNCHER_LOG_FILE", file + "/task.log");
        if (!viaPipeTool) run.Args("--dls-pipe", "/nonexistent/dls-pipe");
        var result = await run.Args("true").RunAsync();
        Assert.Equal(125, result.ExitCode);
        Assert.Contains(result.Messages, l => l.Contains("cannot create the job log"));
    }
}
