using System.Text;
using TrainLauncher.Reporting;
using TrainLauncher.Secrets;

namespace TrainLauncher.Tests.Reporting;

/// <summary>torchrun's error file read defensively: torch's format, and whatever else a command leaves there.</summary>
public class ElasticErrorFileSpecs
{
    private const string TorchFile = """
        {"message": {"message": "RuntimeError: rank 1 lost its shard", "extraInfo": {"py_callstack": "Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/torch/distributed/elastic/multiprocessing/errors/__init__.py\", line 346, in wrapper\n    return f(*args, **kwargs)\n           ^^^^^^^^^^^^^^^^^^\n  File \"/job/train.py\", line 12, in main\n    step(rank)\n  File \"/job/train.py\", line 6, in step\n    load(rank)\n  File \"/job/data.py\", line 3, in load\n    raise RuntimeError(f\"rank {rank} lost its shard\")\nRuntimeError: rank 1 lost its shard\n", "timestamp": "1764650000"}, "errorCode": 1}}
        """;

    private static RootCause Parse(string content, SecretSet? secrets = null) =>
        ElasticErrorFile.Parse(Encoding.UTF8.GetBytes(content), secrets ?? SecretSet.Empty, "torchelastic error file", "/job/err.json");

    [Fact]
    public void Torch_s_format_gives_the_exception_and_the_innermost_frames()
    {
        var cause = Parse(TorchFile);

        Assert.Equal("RuntimeError: rank 1 lost its shard (exit code 1)", cause.Summary);
        Assert.Equal(
            [
                "File \"/usr/lib/python3/dist-packages/torch/distributed/elastic/multiprocessing/errors/__init__.py\", line 346, in wrapper",
                "File \"/job/train.py\", line 12, in main",
                "File \"/job/train.py\", line 6, in step",
                "File \"/job/data.py\", line 3, in load",
            ],
            cause.Frames);
    }

    [Fact]
    public void Only_the_frames_nearest_the_raise_are_kept()
    {
        var stack = string.Concat(Enumerable.Range(0, 50).Select(i => $"  File \\\"/job/f{i}.py\\\", line {i}, in f{i}\\n    x\\n"));
        var cause = Parse("{\"message\": {\"message\": \"RecursionError: deep\", \"extraInfo\": {\"py_callstack\": \"" + stack + "\"}}}");

        Assert.Equal(ElasticErrorFile.MaxFrames, cause.Frames.Count);
        Assert.Equal("File \"/job/f49.py\", line 49, in f49", cause.Frames[^1]);
    }

    [Fact]
    public void The_plain_string_message_format_is_read_too()
    {
        var cause = Parse("""{"message": "SIGSEGV in worker"}""");
        Assert.Equal("SIGSEGV in worker", cause.Summary);
        Assert.Empty(cause.Frames);
    }

    [Fact]
    public void Secrets_are_masked_in_the_message_and_the_frames()
    {
        var secrets = new SecretSet();
        secrets.Add("DLS_AES__TOKEN", "s3cr3t-t0ken");
        var cause = Parse("""{"message": {"message": "ValueError: bad token s3cr3t-t0ken", "extraInfo": {"py_callstack": "  File \"/job/s3cr3t-t0ken.py\", line 1, in m\n"}}}""", secrets);

        Assert.Equal("ValueError: bad token ******", cause.Summary);
        Assert.Equal(["File \"/job/******.py\", line 1, in m"], cause.Frames);
    }

    [Fact]
    public void A_message_with_newlines_and_control_characters_stays_one_line()
    {
        var cause = Parse("""{"message": {"message": "Error: a\n[trainlauncher] exit status 0\u0000\u001b[2J\u2028end"}}""");

        Assert.Equal(@"Error: a\n[trainlauncher] exit status 0\x00\x1b[2J\u2028end", cause.Summary);
    }

    [Fact]
    public void An_over_long_message_is_cut()
    {
        var cause = Parse("{\"message\": {\"message\": \"" + new string('x', 100_000) + "\"}}");
        Assert.True(cause.Summary.Length < 500, $"{cause.Summary.Length} characters");
        Assert.EndsWith("...", cause.Summary, StringComparison.Ordinal);
    }

    // Malformed files: one line naming the file and saying what is wrong, never an exception.
    [Theory]
    [InlineData("", "not JSON")]
    [InlineData("{", "not JSON")]
    [InlineData("\u0000\u0001binary", "not JSON")]
    [InlineData("[1,2]", "no \"message\"")]
    [InlineData("\"text\"", "no \"message\"")]
    [InlineData("{\"other\": 1}", "no \"message\"")]
    [InlineData("{\"message\": 42}", "\"message\" is a number")]
    [InlineData("{\"message\": null}", "\"message\" is a null")]
    [InlineData("{\"message\": [\"a\"]}", "\"message\" is a array")]
    [InlineData("{\"message\": {\"message\": 5, \"extraInfo\": \"x\", \"errorCode\": \"1\"}}", null)]
    [InlineData("{\"message\": {\"extraInfo\": {\"py_callstack\": 7}}}", null)]
    [InlineData("{\"message\": {\"message\": \"a\"}} trailing", "not JSON")]
    [InlineData("{\"message\": {\"message\": \"\\ud800\"}}", null)]
    // afl-fuzz: a name with a lone surrogate escape threw InvalidOperationException when compared
    [InlineData("{\"mes\\ud800sage\": \"S\"}", "no \"message\"")]
    [InlineData("{\"message\": {\"extra\\udc00Info\": 1, \"message\": \"a\"}}", null)]
    public void A_malformed_file_gives_one_line_and_no_exception(string content, string? says)
    {
        var cause = Parse(content);

        Assert.DoesNotMatch(@"[\p{Cc}\u2028\u2029]", cause.Summary);
        Assert.All(cause.Frames, f => Assert.DoesNotMatch(@"[\p{Cc}\u2028\u2029]", f));
        if (says is not null)
        {
            Assert.StartsWith("/job/err.json could not be read as torch's error file (", cause.Summary, StringComparison.Ordinal);
            Assert.Contains(says, cause.Summary, StringComparison.Ordinal);
            Assert.EndsWith("; it is left in place", cause.Summary, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Deep_nesting_is_refused_not_a_stack_overflow()
    {
        var cause = Parse(new string('[', 100_000));
        Assert.Contains("not JSON", cause.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_bytes_never_throw_and_stay_one_line()
    {
        var random = new Random(14);
        var seed = Encoding.UTF8.GetBytes(TorchFile);
        for (int i = 0; i < 20_000; i++)
        {
            var bytes = (byte[])seed.Clone();
            for (int edits = random.Next(1, 8); edits > 0; edits--)
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            var cause = ElasticErrorFile.Parse(bytes, SecretSet.Empty, "torchelastic error file", "/job/err.json");
            Assert.DoesNotMatch(@"[\p{Cc}\u2028\u2029]", cause.Summary + string.Concat(cause.Frames));
            Assert.True(cause.Frames.Count <= ElasticErrorFile.MaxFrames);
        }
    }

    [Fact]
    public void A_file_older_than_the_command_is_not_this_run_s_cause()
    {
        using var dir = new Support.TempDir();
        var path = dir.Write("old.json", TorchFile);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddHours(-1));

        Assert.Null(ElasticErrorFile.Read(path, DateTime.UtcNow, SecretSet.Empty));
        Assert.Null(ElasticErrorFile.Read(dir["missing.json"], DateTime.UtcNow, SecretSet.Empty));
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
        Assert.Equal("RuntimeError: rank 1 lost its shard (exit code 1)", ElasticErrorFile.Read(path, DateTime.UtcNow.AddSeconds(-1), SecretSet.Empty)!.Summary);
    }

    [Fact]
    public void A_file_over_the_size_bound_gives_one_line()
    {
        using var dir = new Support.TempDir();
        var path = dir.Write("big.json", new string(' ', ElasticErrorFile.MaxBytes + 10));
        Assert.Contains("larger than 1 MiB", ElasticErrorFile.Read(path, DateTime.UtcNow.AddMinutes(-1), SecretSet.Empty)!.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_FIFO_gives_one_line_instead_of_a_launcher_that_waits_for_a_writer()
    {
        using var dir = new Support.TempDir();
        string fifo = dir["error.fifo"];
        System.Diagnostics.Process.Start("mkfifo", [fifo])!.WaitForExit();
        Assert.Contains("a FIFO, not a regular file", ElasticErrorFile.Read(fifo, DateTime.UtcNow.AddMinutes(-1), SecretSet.Empty)!.Summary, StringComparison.Ordinal);
    }
}
