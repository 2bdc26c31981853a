using System.Diagnostics;
using System.Security.Cryptography;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Output;

/// <summary>SPEC 4: every byte of the command's merged output reaches stdout and the job log,
/// unchanged — checked by sha256 against what the command wrote.</summary>
public class OutputSpecs
{
    private static LauncherRun Quiet(TempDir dir) => new LauncherRun(dir).Args("--log-level", "error");

    private static (string Sha, long Length) Expected(string file)
    {
        var parts = File.ReadAllText(file).Split(' ');
        return (parts[0], long.Parse(parts[1]));
    }

    [Fact]
    public async Task Interleaved_stdout_and_stderr_of_200_MB_arrive_byte_exact_in_write_order()
    {
        using var dir = new TempDir();
        var result = await Quiet(dir).Dummy("interleave", "200", dir["expect"]).RunAsync();
        Assert.Equal(0, result.ExitCode);
        var (sha, length) = Expected(dir["expect"]);
        Assert.Equal(length, new FileInfo(result.StdoutFile).Length);
        Assert.Equal(sha, result.StdoutSha256);
        Assert.Equal(sha, result.LogSha256);
    }

    public static TheoryData<string> Awkward => new() { "invalid-utf8", "progress-bar", "long-line", "no-final-newline" };

    private static byte[] Content(string kind) => kind switch
    {
        "invalid-utf8" => [0x61, 0xff, 0xfe, 0x0a, 0xc3, 0x28, 0x0a, 0xed, 0xa0, 0x80, 0x0a, 0x00, 0x01, 0x0a],
        "progress-bar" => System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 2000).Select(i => $"\r{i / 20}% [{new string('#', i % 50)}]")) + "\rdone\n"),
        "long-line" => RandomNumberGenerator.GetBytes(16 << 20).Select(b => b == (byte)'\n' ? (byte)'x' : b).ToArray(),
        _ => System.Text.Encoding.ASCII.GetBytes("first line\nsecond line\nlast line without newline"),
    };

    [Theory]
    [MemberData(nameof(Awkward))]
    public async Task Awkward_output_arrives_byte_exact_on_stdout_and_in_the_log(string kind)
    {
        foreach (bool viaPipeTool in new[] { true, false })
        {
            using var dir = new TempDir();
            var content = Content(kind);
            File.WriteAllBytes(dir["content"], content);
            var run = Quiet(dir);
            if (!viaPipeTool) run.Args("--dls-pipe", "/nonexistent/dls-pipe");
            var result = await run.Dummy("cat", dir["content"]).RunAsync();
            Assert.Equal(0, result.ExitCode);
            Assert.Equal(Hashes.Of(content), result.StdoutSha256);
            Assert.Equal(Hashes.Of(content), result.LogSha256);
        }
    }

    [Fact]
    public async Task When_dls_pipe_dies_mid_run_the_launcher_takes_over_the_file_without_losing_a_byte()
    {
        using var dir = new TempDir();
        var first = RandomNumberGenerator.GetBytes(1 << 20);
        var second = RandomNumberGenerator.GetBytes(6 << 20);
        File.WriteAllBytes(dir["first"], first);
        File.WriteAllBytes(dir["second"], second);
        string py = $"{Repo.Python} {Repo.Dummy}";
        var run = new LauncherRun(dir).Args("--shell", "--",
            $"{py} cat {dir["first"]} && {py} waitfile {dir["gate"]} && {py} cat {dir["second"]}");
        using var launcher = run.Start();
        var collecting = run.CollectAsync(launcher);

        // The first part is in the file: dls-pipe works. Stop it, let the second part fill the
        // pipe it no longer reads, then kill it: what sat in the pipe must not be lost.
        await Until(() => File.Exists(run.LogFile) && new FileInfo(run.LogFile).Length == first.Length);
        int pipeTool = ProcessWriting(run.LogFile);
        Kill(pipeTool, "STOP");
        File.WriteAllText(dir["gate"], "");
        await Task.Delay(1500);
        Kill(pipeTool, "KILL");

        var result = await collecting;
        Assert.Equal(0, result.ExitCode);
        var expected = Hashes.Of([.. first, .. second]);
        Assert.Equal(expected, result.LogSha256);
        Assert.Contains(result.Messages, l => l.Contains("dls-pipe stopped taking the log"));
    }

    [Fact]
    public async Task A_stdout_reader_throttled_to_50_MB_per_s_gets_every_byte()
    {
        using var dir = new TempDir();
        var run = Quiet(dir).Dummy("interleave", "64", dir["expect"]);
        using var launcher = run.Start();
        launcher.StandardInput.Close();
        var stderr = launcher.StandardError.ReadToEndAsync();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 << 10];
        var clock = Stopwatch.StartNew();
        long received = 0;
        int n;
        while ((n = await launcher.StandardOutput.BaseStream.ReadAsync(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, n);
            received += n;
            var due = TimeSpan.FromSeconds(received / 50e6);
            if (due > clock.Elapsed) await Task.Delay(due - clock.Elapsed);
        }
        await launcher.WaitForExitAsync();
        await stderr;
        var (expectedSha, length) = Expected(dir["expect"]);
        Assert.Equal(0, launcher.ExitCode);
        Assert.Equal(length, received);
        Assert.Equal(expectedSha, Convert.ToHexStringLower(sha.GetHashAndReset()));
        Assert.Equal(expectedSha, Hashes.OfFile(run.LogFile));
    }

    [Fact]
    public async Task A_stdout_reader_that_starts_5_s_late_gets_every_byte()
    {
        using var dir = new TempDir();
        var run = Quiet(dir).Dummy("interleave", "32", dir["expect"]);
        using var launcher = run.Start();
        await Task.Delay(5000);
        var result = await run.CollectAsync(launcher);
        var (expectedSha, _) = Expected(dir["expect"]);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(expectedSha, result.StdoutSha256);
        Assert.Equal(expectedSha, result.LogSha256);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_log_left_by_an_earlier_run_with_the_same_task_index_is_replaced(bool viaPipeTool)
    {
        using var dir = new TempDir();
        var run = Quiet(dir);
        dir.Write("logs/task.log", string.Concat(Enumerable.Repeat("OLD LINE FROM THE LAST RUN\n", 5000)));
        if (!viaPipeTool) run.Args("--dls-pipe", "/nonexistent/dls-pipe");
        var result = await run.Args("echo", "new run").RunAsync();
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("new run\n", result.Log);
    }

    [Fact]
    public async Task A_launcher_message_never_lands_inside_a_line_of_the_command_s_output()
    {
        using var dir = new TempDir();
        var run = new LauncherRun(dir).Dummy("midline", dir["ready"]);
        using var launcher = run.Start();
        var collecting = run.CollectAsync(launcher);
        await Until(() => File.Exists(dir["ready"]));
        // "partial" has passed through the launcher (it is on its stdout), not just been written:
        // a fixed wait here failed 1 time in 5 when the CPU was busy.
        string stdout = dir[$"stdout-{launcher.Id}"];
        await Until(() => SharedFile.Read(stdout).Contains("partial"));
        Kill(launcher.Id, "TERM"); // the launcher says it forwarded SIGTERM while "partial" has no newline yet
        var result = await collecting;
        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        int forwarded = Array.FindIndex(lines, l => l.Contains("SIGTERM passed to the command"));
        Assert.True(forwarded >= 0, result.Stdout);
        // A line of its own: after the command's line ends, or — when the command took more than
        // the held-line pause (1 s) to finish it, as on a loaded machine — between its two halves.
        Assert.StartsWith("[trainlauncher]", lines[forwarded]);
        bool afterTheLine = forwarded > Array.IndexOf(lines, "partial rest") && Array.IndexOf(lines, "partial rest") >= 0;
        bool releasedByThePause = forwarded > 0 && lines[forwarded - 1] == "partial" && lines.ElementAtOrDefault(forwarded + 1) == " rest";
        Assert.True(afterTheLine || releasedByThePause, result.Stdout);
        Assert.Equal("partial rest\n", result.Log);
    }

    [Fact]
    public async Task A_message_held_by_a_carriage_return_progress_bar_goes_out_on_its_own_line_once_the_output_pauses()
    {
        using var dir = new TempDir();
        // A progress bar that never ends its line, then silence: the hang warning must not wait
        // for a newline that only comes once the gate opens.
        var run = new LauncherRun(dir).Args("--no-output-timeout", "0.3", "--shell", "--",
            $"printf '\\r10%%\\r20%%'; {Repo.Python} {Repo.Dummy} waitfile {dir["gate"]}; printf '\\rdone\\n'");
        using var launcher = run.Start();
        var collecting = run.CollectAsync(launcher);
        string stdout = dir[$"stdout-{launcher.Id}"];
        try
        {
            await Supervision.Supervised.WaitUntilAsync(() => SharedFile.Read(stdout).Contains("has printed nothing for"), launcher, "the hang warning on stdout");
        }
        finally
        {
            File.WriteAllText(dir["gate"], ""); // also when the wait failed: the command must not outlive the test
        }
        var result = await collecting;

        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n');
        int bar = Array.IndexOf(lines, "\r10%\r20%");
        Assert.True(bar >= 0, result.Stdout);
        Assert.Contains("warning: the command has printed nothing for 0.3 s", lines[bar + 1]);
        Assert.Contains("\rdone", lines);
        Assert.Equal("\r10%\r20%\rdone\n", result.Log);
    }

    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in 60 s");
            await Task.Delay(20);
        }
    }

    /// <summary>The process that has <paramref name="file"/> open for writing (the stand-in dls-pipe's cat).</summary>
    private static int ProcessWriting(string file)
    {
        foreach (var proc in Directory.EnumerateDirectories("/proc").Select(Path.GetFileName))
        {
            if (!int.TryParse(proc, out int pid)) continue;
            try
            {
                if (Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Any(fd => new FileInfo(fd).LinkTarget == file)
                    && File.ReadAllText($"/proc/{pid}/comm").Trim() == "cat")
                    return pid;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        throw new InvalidOperationException($"no process writes {file}");
    }

    private static void Kill(int pid, string signal) =>
        System.Diagnostics.Process.Start("kill", [$"-{signal}", pid.ToString()])!.WaitForExit();
}
