using Microsoft.Extensions.Logging.Abstractions;
using TrainLauncher.Storage;
using TrainLauncher.Tests.Storage.Support;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Data;

/// <summary>DLS_DATA_URL into --data-dir (issue 15), from s3rver and from a local path.</summary>
public class InputDataSpecs(S3rverFixture s3) : IClassFixture<S3rverFixture>, IAsyncLifetime
{
    private const string Bucket = "dataset";
    private const string DataUrl = "obs://dataset/sets/train/";

    private static readonly Dictionary<string, int> Tree = new()
    {
        ["images/a.bin"] = 70 * 1024,
        ["images/b.bin"] = 1,
        ["labels.csv"] = 300,
    };

    private readonly TempDir dir = new();
    private string Source => dir["source/train"];

    public async Task InitializeAsync()
    {
        TestTree.Write(Source, Tree);
        using var raw = s3.RawClient();
        if ((await raw.ListBucketsAsync()).Buckets?.Any(b => b.BucketName == Bucket) == true) return;
        await s3.CreateBucketAsync(Bucket);
        using var seed = new ObjectStore(s3.Settings());
        await seed.UploadDirectoryAsync(Source, ObjectUrl.Parse(DataUrl), NullLogger.Instance, CancellationToken.None);
    }

    public Task DisposeAsync()
    {
        dir.Dispose();
        return Task.CompletedTask;
    }

    private LauncherRun Launcher()
    {
        var run = new LauncherRun(dir);
        foreach (var (name, value) in S3rverFixture.Environment(s3.Endpoint)) run.Set(name, value);
        return run;
    }

    [Fact]
    public async Task Obs_data_lands_in_JOBDIR_data_before_the_command_with_its_own_progress_line_and_summary_row()
    {
        var run = Launcher().Set("DLS_DATA_URL", DataUrl).Args("--data-dir", "auto", "--shell", "--", "sha256sum data/labels.csv > seen.txt");
        var result = await run.RunAsync();

        Assert.True(result.ExitCode == 0, result.Stdout);
        Assert.Equal(TestTree.Snapshot(Source), TestTree.Snapshot(Path.Combine(run.JobDir, "data")));
        Assert.Contains("data/labels.csv", File.ReadAllText(Path.Combine(run.JobDir, "seen.txt")));
        Assert.Contains($"[trainlauncher] fetching data {DataUrl} into {run.JobDir}/data (--data-dir)", result.Messages);
        Assert.Single(result.Messages, l => l.Contains($"fetch {DataUrl}: 3/3 files"));
        Assert.Single(result.Messages, l => l.StartsWith("[trainlauncher]   data         ", StringComparison.Ordinal) && l.EndsWith(", 3 files", StringComparison.Ordinal));
        // Nothing but the data and the command's file: the staging dir is gone.
        Assert.Equal(["data", "seen.txt"], Directory.EnumerateFileSystemEntries(run.JobDir).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task A_local_data_path_replaces_an_earlier_copy_in_a_named_data_dir()
    {
        string target = dir["mnt/input"];
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "stale.txt"), "old");
        var result = await Launcher().Set("DLS_DATA_URL", Source).Args("--data-dir", target, "true").RunAsync();

        Assert.True(result.ExitCode == 0, result.Stdout);
        Assert.Equal(TestTree.Snapshot(Source), TestTree.Snapshot(target));
    }

    [Fact]
    public async Task An_empty_data_prefix_is_127_with_one_line_and_the_command_does_not_run()
    {
        var result = await Launcher().Set("DLS_DATA_URL", "obs://dataset/sets/none/")
            .Args("--data-dir", "auto", "--shell", "--", $"touch {dir["ran"]}").RunAsync();

        Assert.Equal(127, result.ExitCode);
        Assert.False(File.Exists(dir["ran"]));
        Assert.Equal($"[trainlauncher] error: the data fetch failed (DLS_DATA_URL into {result.JobDir}/data): no objects under obs://dataset/sets/none/: the prefix is empty or does not exist; the command was not run",
            Assert.Single(result.Messages, l => l.Contains("error:")));
        Assert.False(Directory.Exists(Path.Combine(result.JobDir, "data")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(result.JobDir, ".trainlauncher-fetch-*"));
    }

    [Fact]
    public async Task Without_data_dir_the_url_is_only_passed_through_and_the_plan_says_so()
    {
        var result = await Launcher().Set("DLS_DATA_URL", DataUrl).Args(Repo.Python, Repo.Dummy, "env").RunAsync();
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"DLS_DATA_URL={DataUrl}\n", result.Log);
        Assert.False(Directory.Exists(Path.Combine(result.JobDir, "data")));

        var plan = await Launcher().Set("DLS_DATA_URL", DataUrl).Args("plan", "true").RunAsync();
        Assert.Contains("data:         not fetched (--data-dir off); DLS_DATA_URL is passed to the command", plan.Stdout);
        var on = await Launcher().Set("DLS_DATA_URL", DataUrl).Args("plan", "--data-dir", "auto", "true").RunAsync();
        Assert.Contains($"data:         built-in client {DataUrl} -> {on.JobDir}/data", on.Stdout);
    }

    [Theory]
    [InlineData("ftp://host/x", "auto", "DLS_DATA_URL has an unknown scheme 'ftp://': use a local path, file://, obs:// or s3://")]
    [InlineData("obs://Bad_Bucket/x/", "auto", "DLS_DATA_URL: malformed object storage URL 'obs://Bad_Bucket/x/': bad bucket name 'Bad_Bucket'")]
    [InlineData("obs://dataset/x/", ".", "--data-dir must name a directory of its own, not the job dir, one that holds it, or /, got '.'")]
    [InlineData("obs://dataset/x/", "..", "--data-dir must name a directory of its own, not the job dir, one that holds it, or /, got '..'")]
    [InlineData("obs://dataset/x/", "/", "--data-dir must name a directory of its own, not the job dir, one that holds it, or /, got '/'")]
    public async Task A_malformed_data_url_or_dir_is_125_with_one_line(string url, string dataDir, string message)
    {
        var result = await Launcher().Set("DLS_DATA_URL", url).Args("--data-dir", dataDir, "true").RunAsync();
        Assert.Equal(125, result.ExitCode);
        Assert.StartsWith($"[trainlauncher] error: {message}", Assert.Single(result.Messages, l => l.Contains("error:")));
    }
}
