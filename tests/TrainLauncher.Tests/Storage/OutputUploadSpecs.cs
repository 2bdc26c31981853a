using TrainLauncher.Tests.Storage.Support;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Storage;

/// <summary>
/// Issue 12: the --output-dir upload reads only regular files, never follows a symlink, and one
/// bad entry costs that entry alone (a line, a count), never the rest, the status or the stop.
/// The real launcher against the class's s3rver; entries made by the command itself.
/// </summary>
public class OutputUploadSpecs(S3rverFixture s3) : IClassFixture<S3rverFixture>, IAsyncLifetime
{
    private const string Bucket = "outputs";

    // Two regular files every run must upload, next to the entry under test.
    private const string GoodFiles = "mkdir -p out/sub && printf one > out/one.txt && printf two > out/sub/two.txt";

    private readonly TempDir dir = new();

    public async Task InitializeAsync()
    {
        using var raw = s3.RawClient();
        if ((await raw.ListBucketsAsync()).Buckets?.Any(b => b.BucketName == Bucket) != true)
            await s3.CreateBucketAsync(Bucket);
    }

    public Task DisposeAsync()
    {
        dir.Dispose();
        return Task.CompletedTask;
    }

    public static TheoryData<string, string> IrregularEntries => new()
    {
        { "pipe", "mkfifo out/pipe" },
        { "sock", "python3 -c \"import socket; socket.socket(socket.AF_UNIX).bind('out/sock')\"" },
        { "null", "mknod out/null c 1 3" },
        { "zero", "ln -s /dev/zero out/zero" },
        { "etc", "ln -s /etc out/etc" },
        { "dangling", "ln -s /nonexistent/file out/dangling" },
        { "loop", "ln -s loop out/loop" },
        { "self", "ln -s . out/self" },
        { "inside", "ln -s one.txt out/inside" },
    };

    [Theory]
    [MemberData(nameof(IrregularEntries))]
    public async Task An_irregular_entry_or_symlink_is_skipped_with_one_line_and_the_rest_is_uploaded(string name, string make)
    {
        string train = $"train/{Guid.NewGuid():N}";
        var run = Launcher(train).Args("--output-dir", "out", "--", "/bin/sh", "-c", $"{GoodFiles} && {make}");

        // Today a FIFO or /dev/zero hangs the upload for good: the limit ends the run.
        var result = await run.RunAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal([$"{train}/one.txt", $"{train}/sub/two.txt"], await KeysAsync(train));
        Assert.Equal("one"u8.ToArray(), await ReadObjectAsync($"{train}/one.txt"));
        var line = Assert.Single(result.Messages, l => l.Contains($"/out/{name}"));
        Assert.StartsWith($"[trainlauncher] warning: skipped {run.JobDir}/out/{name}: ", line);
        Assert.Matches(@"uploaded +6 B, 2 files, 1 skipped$", Assert.Single(result.Messages, l => l.Contains("  uploaded ")));
    }

    public static TheoryData<string, string, string> UnreadableEntries => new()
    {
        { "file", "printf secret > out/locked && chmod 000 out/locked", "cannot upload {0}: Permission denied" },
        { "directory", "mkdir out/locked && printf x > out/locked/in && chmod 000 out/locked", "cannot read the directory {0}: Permission denied" },
    };

    [Theory]
    [MemberData(nameof(UnreadableEntries))]
    public async Task An_unreadable_entry_fails_alone_with_one_line_and_the_status_stays(string kind, string make, string expected)
    {
        Assert.NotNull(kind);
        string train = $"train/{Guid.NewGuid():N}";
        await using var proxy = new FaultProxy(s3.Port);
        var run = Launcher(train, proxy.Endpoint).Args("--output-dir", "out", "--", "/bin/sh", "-c", $"{GoodFiles} && {make}");
        var result = await run.RunAsNobodyAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal([$"{train}/one.txt", $"{train}/sub/two.txt"], await KeysAsync(train));
        var line = Assert.Single(result.Messages, l => l.Contains("/out/locked"));
        Assert.Equal("[trainlauncher] warning: " + string.Format(expected, $"{run.JobDir}/out/locked"), line);
        Assert.DoesNotContain(proxy.Seen, s => s.Request.Path.Contains("locked")); // a local error is never sent, nor retried
        Assert.Matches(@"uploaded +6 B, 2 files, 1 failed$", Assert.Single(result.Messages, l => l.Contains("  uploaded ")));
    }

    [Fact]
    public async Task A_missing_output_dir_is_one_warning_and_keeps_the_status()
    {
        string train = $"train/{Guid.NewGuid():N}";
        var result = await Launcher(train).Args("--output-dir", "never-made", "--", "/bin/sh", "-c", "exit 4").RunAsync();

        Assert.Equal(4, result.ExitCode);
        Assert.Single(result.Messages, l => l.StartsWith("[trainlauncher] warning: ") && l.Contains("never-made") && l.Contains("no such directory"));
        Assert.Empty(await KeysAsync(train));
    }

    [Fact]
    public async Task A_file_name_with_a_newline_cannot_forge_a_launcher_line()
    {
        string train = $"train/{Guid.NewGuid():N}";
        var result = await Launcher(train)
            .Args("--output-dir", "out", "--", "/bin/sh", "-c", $"{GoodFiles} && mkfifo \"$(printf 'out/x\\n[trainlauncher] exit status 0')\"; exit 3")
            .RunAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(3, result.ExitCode);
        Assert.DoesNotContain("[trainlauncher] exit status 0", result.Stdout.Split('\n'));
        Assert.Single(result.Messages, l => l.Contains(@"/out/x\n[trainlauncher] exit status 0: "));
    }

    /// <summary>A launcher with s3rver's endpoint and key, the train URL set.</summary>
    private LauncherRun Launcher(string train, string? endpoint = null)
    {
        var run = new LauncherRun(dir);
        foreach (var (name, value) in S3rverFixture.Environment(endpoint ?? s3.Endpoint)) run.Set(name, value);
        return run.Set("DLS_TRAIN_URL", $"obs://{Bucket}/{train}/");
    }

    private Task<byte[]> ReadObjectAsync(string key) => s3.ReadObjectAsync(Bucket, key);

    private Task<List<string>> KeysAsync(string prefix) => s3.KeysAsync(Bucket, prefix + "/");
}
