using TrainLauncher.Tests.Cluster;
using TrainLauncher.Tests.Support;
using Xunit.Abstractions;

namespace TrainLauncher.Tests.Reporting;

/// <summary>
/// Issue 14: TORCHELASTIC_ERROR_FILE set for the command, and its root cause at the top of the
/// termination message and in the summary when the command fails — with a stand-in shell
/// command and with Debian's torch 1.13 (a rank raising inside @record under torchrun).
/// </summary>
public sealed class RootCauseSpecs(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private LauncherRun Run() => new LauncherRun(_dir).Args("--termination-log", _dir["termination"]);

    private string Message() => File.ReadAllText(_dir["termination"]);

    private const string TorchJson =
        """{"message": {"message": "RuntimeError: boom", "extraInfo": {"py_callstack": "Traceback (most recent call last):\n  File \"/job/train.py\", line 9, in main\n    step()\nRuntimeError: boom\n"}, "errorCode": 1}}""";

    private static string WriteAndExit(string json, int status) =>
        $"printf '%s' '{json.Replace("'", "'\\''")}' > \"$TORCHELASTIC_ERROR_FILE\"; echo last line; exit {status}";

    [Fact]
    public async Task The_command_gets_an_error_file_in_the_job_dir()
    {
        var result = await Run().Dummy("env").RunAsync();

        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"TORCHELASTIC_ERROR_FILE={_dir["home/user-job-dir/torchelastic-error-0.json"]}", result.Stdout.Split('\n'));
    }

    [Fact]
    public async Task A_user_s_own_error_file_is_kept()
    {
        var result = await Run().Set("TORCHELASTIC_ERROR_FILE", _dir["mine.json"]).Dummy("env").RunAsync();

        Assert.Contains($"TORCHELASTIC_ERROR_FILE={_dir["mine.json"]}", result.Stdout.Split('\n'));
    }

    [Fact]
    public async Task A_failed_command_s_root_cause_heads_the_termination_message_and_ends_the_summary()
    {
        var result = await Run().Args("--shell", WriteAndExit(TorchJson, 3)).RunAsync();

        Assert.Equal(3, result.ExitCode);
        Assert.Equal(
            "exit status 3 (phase running): the command ended with exit status 3\n"
            + "root cause (torchelastic error file): RuntimeError: boom (exit code 1)\n"
            + "  File \"/job/train.py\", line 9, in main\n"
            + "last output:\nlast line\n",
            Message());
        Assert.Contains("[trainlauncher]   root cause   RuntimeError: boom (exit code 1) (torchelastic error file)", result.Messages);
    }

    [Fact]
    public async Task A_successful_command_s_error_file_is_not_reported()
    {
        var result = await Run().Args("--shell", WriteAndExit(TorchJson, 0)).RunAsync();

        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("root cause", Message(), StringComparison.Ordinal);
        Assert.DoesNotContain(result.Messages, l => l.Contains("root cause", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_stale_error_file_of_an_earlier_run_is_removed_before_the_command_starts()
    {
        string stale = _dir["home/user-job-dir/torchelastic-error-0.json"];
        _dir.Write("home/user-job-dir/torchelastic-error-0.json", TorchJson);
        // Dated after the start: only the removal (not the age check) keeps it out of the message.
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddHours(1));

        var result = await Run().Dummy("exit", "2").RunAsync();

        Assert.Equal(2, result.ExitCode);
        Assert.False(File.Exists(stale));
        Assert.DoesNotContain("root cause", Message(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_error_file_is_one_line_the_status_stays_and_the_file_is_left()
    {
        var result = await Run().Args("--shell", WriteAndExit("{\"message\": [\u001b[31m", 4)).RunAsync();

        Assert.Equal(4, result.ExitCode);
        var lines = Message().Split('\n');
        var errorFile = _dir["home/user-job-dir/torchelastic-error-0.json"];
        Assert.StartsWith($"root cause (torchelastic error file): {errorFile} could not be read as torch's error file (not JSON: ", lines[1], StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', lines[1]);
        Assert.True(File.Exists(errorFile));
    }

    [Fact]
    public async Task A_secret_in_the_error_file_is_masked_in_the_message_and_the_summary()
    {
        const string plain = "t0p-s3cret-k3y";
        var key = _dir.Write("key", "standin-key\n");
        var result = await Run().Set("DLS_DECRYPTOR_KEY_FILE", key).Set("DLS_AES__API_KEY", Cipher.Encrypt(plain))
            .Args("--shell", WriteAndExit("{\"message\": {\"message\": \"KeyError: " + plain + "\"}}", 1)).RunAsync();

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("root cause (torchelastic error file): KeyError: ******\n", Message(), StringComparison.Ordinal);
        Assert.Contains("[trainlauncher]   root cause   KeyError: ****** (torchelastic error file)", result.Messages);
        Assert.DoesNotContain(plain, Message(), StringComparison.Ordinal);
        Assert.DoesNotContain(plain, string.Join('\n', result.Messages), StringComparison.Ordinal);
    }

    /// <summary>Debian's torch 1.13: torchrun with two workers, rank 1 raising inside @record.</summary>
    [SkippableFact]
    public async Task Torchrun_s_error_file_gives_the_failing_rank_s_exception_and_frames()
    {
        DistributedSpecs.EnsureTorch();
        _dir.Write("home/user-job-dir/train.py", """
            import os
            from torch.distributed.elastic.multiprocessing.errors import record

            def load_shard(rank):
                raise RuntimeError(f"rank {rank} could not load its shard")

            @record
            def main():
                rank = int(os.environ["RANK"])
                if rank == 1:
                    load_shard(rank)
                print(f"rank {rank} done", flush=True)

            main()
            """);
        var result = await Run().Set("MASTER_PORT", $"{Http.FreePort()}").Set("TMPDIR", Directory.CreateDirectory(_dir["tmp"]).FullName)
            .Args("/usr/bin/python3", "-m", "torch.distributed.run", "--redirects", "1", "--tee", "1", "--nproc_per_node=2", "train.py")
            .RunAsync(TimeSpan.FromSeconds(120));
        output.WriteLine(result.Stdout);
        output.WriteLine(Message());

        Assert.NotEqual(0, result.ExitCode);
        var lines = Message().Split('\n');
        Assert.Equal("root cause (torchelastic error file): RuntimeError: rank 1 could not load its shard (exit code 1)", lines[1]);
        Assert.Contains(lines, l => l.StartsWith("  File \"", StringComparison.Ordinal) && l.EndsWith("train.py\", line 5, in load_shard", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("  File \"", StringComparison.Ordinal) && l.EndsWith("train.py\", line 11, in main", StringComparison.Ordinal));
        Assert.Contains("[trainlauncher]   root cause   RuntimeError: rank 1 could not load its shard (exit code 1) (torchelastic error file)", result.Messages);
    }
}
