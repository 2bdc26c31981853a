using System.Text;
using TrainLauncher.Reporting;
using TrainLauncher.Launch;
using TrainLauncher.Secrets;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Reporting;

/// <summary>SPEC 11: the short reason written to --termination-log on every way a run can end.</summary>
public class TerminationMessageSpecs
{
    private static LauncherRun Run(TempDir dir) => new LauncherRun(dir).Args("--termination-log", dir["termination"]);

    private static string Message(TempDir dir) => File.ReadAllText(dir["termination"]);

    [Fact]
    public async Task Success_gives_the_status_the_phase_and_the_last_lines()
    {
        using var dir = new TempDir();
        var result = await Run(dir).Dummy("pieces", "0", "epoch 1\\n", "epoch 2 done\\n").RunAsync();
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("exit status 0 (phase running): the command ended with exit status 0\nlast output:\nepoch 1\nepoch 2 done\n", Message(dir));
    }

    [Fact]
    public async Task Failure_names_the_command_s_status()
    {
        using var dir = new TempDir();
        var result = await Run(dir).Args("--shell", "echo 'Traceback: boom'; exit 3").RunAsync();
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("exit status 3 (phase running): the command ended with exit status 3\nlast output:\nTraceback: boom\n", Message(dir));
    }

    [Fact]
    public async Task A_failed_fetch_says_so_with_the_download_error()
    {
        using var dir = new TempDir();
        var result = await Run(dir).Set("DLS_APP_URL", dir["missing-code"]).Args("true").RunAsync();
        Assert.Equal(127, result.ExitCode);
        var message = Message(dir);
        Assert.StartsWith("exit status 127 (phase fetching): the code fetch failed (App download error); the command was not run\nlast output:\nApp download error: ", message);
    }

    [Fact]
    public async Task A_command_killed_by_a_signal_names_the_signal()
    {
        using var dir = new TempDir();
        var result = await Run(dir).Dummy("kill", "SIGKILL").RunAsync();
        Assert.Equal(137, result.ExitCode);
        Assert.Equal("exit status 137 (phase running): the command ended with signal SIGKILL\n", Message(dir));
    }

    [Fact]
    public async Task A_stop_signal_to_the_launcher_ends_with_the_command_s_last_words()
    {
        using var dir = new TempDir();
        var run = Run(dir).Dummy("trap", dir["ready"]);
        using var launcher = run.Start();
        var collecting = run.CollectAsync(launcher);
        while (!File.Exists(dir["ready"]) && !launcher.HasExited) await Task.Delay(20);
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", launcher.Id.ToString()])) await kill.WaitForExitAsync();

        var result = await collecting;
        Assert.Equal(143, result.ExitCode);
        Assert.Equal("exit status 143 (phase running): the command ended with signal SIGTERM\nlast output:\ngot SIGTERM\n", Message(dir));
    }

    [Fact]
    public async Task A_launcher_failure_gives_125_and_its_one_line()
    {
        using var dir = new TempDir();
        var result = await Run(dir)
            .Set("DLS_DECRYPTOR_KEY_FILE", dir.Write("key", "wrong-key\n"))
            .Set("DLS_AES__TOKEN", Cipher.Encrypt("value"))
            .Args("true").RunAsync();
        Assert.Equal(125, result.ExitCode);
        var message = Message(dir);
        Assert.StartsWith("exit status 125 (phase decrypting): ", message);
        Assert.Contains("TOKEN", message);
    }

    [Fact]
    public async Task A_malformed_option_still_leaves_a_message_where_the_environment_says()
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Set("TRAINLAUNCHER_TERMINATION_LOG", dir["termination"])
            .Args("--stop-grace", "soon", "true").RunAsync();
        Assert.Equal(125, result.ExitCode);
        Assert.Equal("exit status 125 (phase starting): --stop-grace must be a number of seconds >= 0, got 'soon'\n", Message(dir));
    }

    [Fact]
    public async Task An_unwritable_termination_log_is_a_warning_and_the_status_stays()
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Args("--termination-log", dir["no/such/dir/termination"]).Dummy("exit", "4").RunAsync();
        Assert.Equal(4, result.ExitCode);
        Assert.Contains(result.Messages, l => l.StartsWith("[trainlauncher] warning: cannot write the termination message to " + dir["no/such/dir/termination"], StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_long_output_is_cut_to_4096_bytes_keeping_the_end()
    {
        using var dir = new TempDir();
        var result = await Run(dir).Args("--shell", "i=0; while [ $i -lt 3000 ]; do echo \"line $i: ÄÖÜ padding padding padding\"; i=$((i+1)); done; exit 1").RunAsync();
        Assert.Equal(1, result.ExitCode);
        var bytes = File.ReadAllBytes(dir["termination"]);
        Assert.InRange(bytes.Length, 3000, TerminationMessage.MaxBytes);
        var message = Encoding.UTF8.GetString(bytes);
        Assert.StartsWith("exit status 1 (phase running): the command ended with exit status 1\nlast output:\nline ", message);
        Assert.EndsWith("line 2999: ÄÖÜ padding padding padding\n", message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_decrypted_value_in_the_last_lines_is_masked(bool withLogFile)
    {
        using var dir = new TempDir();
        var run = Run(dir)
            .Set("DLS_DECRYPTOR_KEY_FILE", dir.Write("key", "standin-key\n"))
            .Set("DLS_AES__API_TOKEN", Cipher.Encrypt("tok-very-secret-42"));
        if (!withLogFile) run.Set("TRAINLAUNCHER_LOG_FILE", "");
        var result = await run.Args("--shell", "echo \"token is $API_TOKEN\"; exit 2").RunAsync();
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("token is tok-very-secret-42", result.Stdout);
        Assert.Equal("exit status 2 (phase running): the command ended with exit status 2\nlast output:\ntoken is ******\n", Message(dir));
    }

    [Fact]
    public void A_secret_cut_in_half_at_the_start_of_the_tail_never_shows()
    {
        var secrets = new SecretSet();
        secrets.Add("KEY", "ABCDEFGHIJ");
        var tail = Encoding.UTF8.GetBytes("FGHIJ and more\nlast line\n");   // the read began inside the secret
        var message = TerminationMessage.Compose(1, LaunchPhase.Running, "r", tail, tailIsWholeOutput: false, secrets);
        Assert.Equal("exit status 1 (phase running): r\nlast output:\nlast line\n", message);
    }

    [Fact]
    public void One_huge_line_keeps_its_end_within_the_bound_and_progress_bars_show_their_last_state()
    {
        var line = string.Concat(Enumerable.Repeat("0123456789", 2000)) + "END\n";
        var message = TerminationMessage.Compose(1, LaunchPhase.Running, "r", Encoding.UTF8.GetBytes(line), false, SecretSet.Empty);
        Assert.True(Encoding.UTF8.GetByteCount(message) <= TerminationMessage.MaxBytes);
        Assert.EndsWith("789END\n", message);

        var bar = TerminationMessage.Compose(0, LaunchPhase.Running, "r", "10%\r50%\r100%\n"u8.ToArray(), true, SecretSet.Empty);
        Assert.EndsWith("last output:\n100%\n", bar);
    }
}
