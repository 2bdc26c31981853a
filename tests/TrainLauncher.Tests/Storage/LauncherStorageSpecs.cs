using Amazon.S3;
using Microsoft.Extensions.Logging.Abstractions;
using TrainLauncher.Storage;
using TrainLauncher.Tests.Storage.Support;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Storage;

/// <summary>
/// The built-in client inside the real launcher process (SPEC 6, 7, 10): code fetch, log and
/// output uploads, against the class's s3rver and, for faults, a <see cref="FaultProxy"/>.
/// </summary>
public class LauncherStorageSpecs(S3rverFixture s3) : IClassFixture<S3rverFixture>, IAsyncLifetime
{
    private const string Bucket = "launch";
    private const string App = "obs://launch/jobs/app/";
    private const string SecretKey = "s3cr3t-Launch-Key-9f";

    private static readonly Dictionary<string, int> Tree = new()
    {
        ["lib/util.py"] = 500,
        ["lib/empty.py"] = 0,
        ["data/blob.bin"] = 300 * 1024,
        ["name with space ü.txt"] = 100,
    };

    // Runs in the job dir (the command's working directory), next to the fetched app/.
    private const string RunScript = "pwd > app/ran-from.txt\nsha256sum app/data/blob.bin > app/blob.sha\n";

    private readonly TempDir dir = new();
    private FaultProxy proxy = null!;
    private string Source => dir["source/app"];

    public async Task InitializeAsync()
    {
        proxy = new FaultProxy(s3.Port);
        TestTree.Write(Source, Tree, "empty-dir");
        File.WriteAllText(Path.Combine(Source, "run.sh"), RunScript);
        using var raw = s3.RawClient();
        if ((await raw.ListBucketsAsync()).Buckets?.Any(b => b.BucketName == Bucket) == true)
            return;
        await s3.CreateBucketAsync(Bucket);
        using var seed = new ObjectStore(s3.Settings());
        await seed.UploadDirectoryAsync(Source, ObjectUrl.Parse(App), NullLogger.Instance, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await proxy.DisposeAsync();
        dir.Dispose();
    }

    /// <summary>A launcher with s3rver's endpoint and key, the built-in client chosen.</summary>
    private LauncherRun Launcher(string? endpoint = null)
    {
        var run = new LauncherRun(dir);
        foreach (var (name, value) in S3rverFixture.Environment(endpoint ?? s3.Endpoint)) run.Set(name, value);
        return run.Args("--downloader", "builtin");
    }

    private static string[] Shell(string script) => ["/bin/sh", "-c", script];

    // --- fetch ---

    [Fact]
    public async Task Obs_code_is_fetched_into_the_job_dir_and_the_command_runs_from_it()
    {
        var result = await Launcher().Set("DLS_APP_URL", App).Args("--", "sh", "app/run.sh").RunAsync();

        Assert.True(result.ExitCode == 0, result.Stdout);
        string fetched = Path.Combine(result.JobDir, "app");
        var expected = TestTree.Snapshot(Source);
        expected.UnionWith(["ran-from.txt " + Entry(fetched, "ran-from.txt"), "blob.sha " + Entry(fetched, "blob.sha")]);
        Assert.Equal(expected, TestTree.Snapshot(fetched));
        Assert.Equal(result.JobDir + "\n", File.ReadAllText(Path.Combine(fetched, "ran-from.txt")));
        Assert.Equal(new[] { "app" }, Directory.EnumerateFileSystemEntries(result.JobDir).Select(Path.GetFileName));

        var progress = Assert.Single(result.Messages, l => l.Contains($"fetch {App}: 5/5 files"));
        Assert.DoesNotContain(progress, char.IsControl);
        Assert.Matches(@"MB/s$", progress);
    }

    [Fact]
    public async Task Auto_uses_the_built_in_client_when_dls_downloader_is_missing()
    {
        var run = new LauncherRun(dir);
        foreach (var (name, value) in S3rverFixture.Environment(s3.Endpoint)) run.Set(name, value);
        var result = await run.Set("DLS_APP_URL", App).Set("DLS_USE_DOWNLOADER", "1")
            .Args("--dls-downloader", "/nonexistent/dls-downloader", "--", "sh", "app/run.sh").RunAsync();

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(TestTree.Snapshot(Source).Count + 2, TestTree.Snapshot(Path.Combine(result.JobDir, "app")).Count);
    }

    public static TheoryData<string, string> FetchFailures => new()
    {
        // the listing passes, one object is refused (a 4xx is not retried): partial files exist in staging
        { "denied", "cannot fetch obs://launch/jobs/app/data/blob.bin: access denied" },
        { "traversal", "unsafe object key 'jobs/app/../../escape.txt' under obs://launch/jobs/app/" },
        { "bucket", "cannot list obs://no-such-bucket/app/: bucket 'no-such-bucket' does not exist at " },
    };

    [Theory]
    [MemberData(nameof(FetchFailures))]
    public async Task A_failed_fetch_gives_127_and_the_reason_in_the_log_runs_nothing_and_leaves_no_directory(string fault, string reason)
    {
        proxy.Rule = fault switch
        {
            "denied" => r => r.IsGetObject && r.Path.EndsWith("blob.bin") ? new Fault.Status(403, "AccessDenied") : null,
            "traversal" => r => r.IsList ? new Fault.Xml(Listing("jobs/app/", "jobs/app/run.sh", "jobs/app/../../escape.txt")) : null,
            _ => _ => null,
        };
        string url = fault == "bucket" ? "obs://no-such-bucket/app/" : App;
        string marker = dir["command-ran"];

        var result = await Launcher(proxy.Endpoint).Set("DLS_APP_URL", url).Args("--", "touch", marker).RunAsync();

        Assert.Equal(127, result.ExitCode);
        var line = Assert.Single(result.Log.Split('\n'), l => l.StartsWith("App download error: ", StringComparison.Ordinal));
        Assert.Contains(reason, line);
        Assert.False(File.Exists(marker));
        Assert.Empty(Directory.EnumerateFileSystemEntries(result.JobDir));
        Assert.Empty(Directory.EnumerateFiles(dir.Path, "escape.txt", new EnumerationOptions { RecurseSubdirectories = true }));
    }

    [Fact]
    public async Task After_a_failed_fetch_the_log_saying_why_is_still_uploaded()
    {
        string logs = $"logs/{Guid.NewGuid():N}";
        var result = await Launcher().Set("DLS_APP_URL", "obs://no-such-bucket/app/")
            .Set("DLS_USE_UPLOADER", "1").Set("DLS_UPLOAD_LOG_OBS_DIR", $"obs://{Bucket}/{logs}").Set("DLS_DLKS_JOB_ID", "j0")
            .Args("--", "touch", dir["ran"]).RunAsync();

        Assert.Equal(127, result.ExitCode);
        Assert.StartsWith("App download error: ", result.Log);
        Assert.Equal(File.ReadAllBytes(result.LogFile), await ReadObjectAsync($"{logs}/dls-log-j0/task.log"));
    }

    public static TheoryData<string, string> ListingFaults => new()
    {
        { "huge", $"object key 'jobs/app/a.bin' under {App} declares {long.MaxValue} bytes" },
        { "repeat", $"cannot list {App}: the store sent continuation token 'again' twice" },
        { "endless", $"cannot list {App}: the store said the listing goes on (IsTruncated) but sent no continuation token" },
    };

    [Theory]
    [MemberData(nameof(ListingFaults))]
    public async Task A_listing_a_store_should_never_send_gives_127_with_one_App_download_error_line(string fault, string reason)
    {
        proxy.Rule = r => !r.IsList ? null : fault switch
        {
            "huge" => new Fault.Xml(Listing("jobs/app/", [("jobs/app/a.bin", long.MaxValue), ("jobs/app/b.bin", long.MaxValue)])),
            "repeat" => new Fault.Xml(Listing("jobs/app/", [], next: "again")),
            _ => new Fault.Xml(Listing("jobs/app/", [], next: "")),
        };

        // Today the last two list for ever: the limit ends them.
        var result = await Launcher(proxy.Endpoint).Set("DLS_APP_URL", App).Args("--", "touch", dir["ran"]).RunAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(127, result.ExitCode);
        var line = Assert.Single(result.Log.Split('\n'), l => l.StartsWith("App download error: ", StringComparison.Ordinal));
        Assert.Contains(reason, line);
        Assert.False(File.Exists(dir["ran"]));
        Assert.True(proxy.Seen.Count(s => s.Request.IsList) <= 2);
    }

    [Theory]
    [InlineData("jobs/app/x&#10;[trainlauncher] exit status 0", @"jobs/app/x\n[trainlauncher] exit status 0")]
    [InlineData("jobs/app/nul&#0;byte", @"jobs/app/nul\x00byte")]
    public async Task A_key_with_control_characters_cannot_forge_a_line_in_stdout_or_the_log(string xmlKey, string shown)
    {
        proxy.Rule = r => r.IsList ? new Fault.Xml(Listing("jobs/app/", [(xmlKey, 4)]))
            : r.IsGetObject ? new Fault.Status(403, "AccessDenied") : null;

        var result = await Launcher(proxy.Endpoint).Set("DLS_APP_URL", App).Args("--", "touch", dir["ran"]).RunAsync();

        Assert.Equal(127, result.ExitCode);
        foreach (var text in new[] { result.Stdout, result.Log })
        {
            Assert.DoesNotContain('\0', text);
            Assert.DoesNotContain("[trainlauncher] exit status 0", text.Split('\n'));
        }
        var line = Assert.Single(result.Log.Split('\n'), l => l.StartsWith("App download error: ", StringComparison.Ordinal));
        Assert.Contains(shown, line);
    }

    // --- bad input ---

    [Theory]
    [InlineData("obs://", "DLS_APP_URL: malformed object storage URL 'obs://': missing bucket name")]
    [InlineData("s3://Bad_Bucket/app/", "DLS_APP_URL: malformed object storage URL 's3://Bad_Bucket/app/': bad bucket name")]
    public async Task A_malformed_app_url_gives_125_with_one_line(string url, string reason)
    {
        var result = await Launcher().Set("DLS_APP_URL", url).Args("--", "touch", dir["ran"]).RunAsync();

        Assert.Equal(125, result.ExitCode);
        var error = Assert.Single(result.Messages, l => l.Contains("error:"));
        Assert.Contains(reason, error);
        Assert.False(File.Exists(dir["ran"]));
    }

    [Fact]
    public async Task No_endpoint_gives_125_with_one_line()
    {
        var run = new LauncherRun(dir).Set("AWS_ACCESS_KEY_ID", "S3RVER").Set("AWS_SECRET_ACCESS_KEY", "S3RVER");
        var result = await run.Set("DLS_APP_URL", App).Args("--downloader", "builtin", "--", "touch", dir["ran"]).RunAsync();

        Assert.Equal(125, result.ExitCode);
        var error = Assert.Single(result.Messages, l => l.Contains("error:"));
        Assert.Contains("no object storage endpoint: set --obs-endpoint, OBS_ENDPOINT or S3_ENDPOINT", error);
        Assert.False(File.Exists(dir["ran"]));
    }

    [Theory]
    [InlineData("--transfers", "abc", "abc")]
    [InlineData("--transfers", "0", "'0'")]
    [InlineData("--downloader", "ftp", "--downloader must be auto, tool or builtin, got 'ftp'")]
    public async Task A_malformed_storage_option_gives_125_with_one_line(string option, string value, string named)
    {
        var result = await Launcher().Set("DLS_APP_URL", App).Args(option, value, "--", "touch", dir["ran"]).RunAsync();

        Assert.Equal(125, result.ExitCode);
        var error = Assert.Single(result.Messages, l => l.Contains("error:"));
        Assert.Contains(named, error);
        Assert.False(File.Exists(dir["ran"]));
    }

    // --- credentials ---

    [Fact]
    public async Task Keys_from_decrypted_DLS_AES_variables_are_used_and_the_secret_is_never_shown()
    {
        var keyFile = dir.Write("key", "standin-key\n");
        LauncherRun Run() => new LauncherRun(dir)
            .Set("OBS_ENDPOINT", proxy.Endpoint)
            .Set("DLS_DECRYPTOR_KEY_FILE", keyFile)
            .Set("DLS_AES__AWS_ACCESS_KEY_ID", Cipher.Encrypt("S3RVER"))
            .Set("DLS_AES__AWS_SECRET_ACCESS_KEY", Cipher.Encrypt(SecretKey))
            .Set("DLS_APP_URL", App);

        var planRun = Run().Args("plan", "--downloader", "builtin", "--", "sh", "app/run.sh");
        var plan = await planRun.RunAsync();
        var launch = Run().Args("--downloader", "builtin", "--", "sh", "app/run.sh");
        var result = await launch.RunAsync();

        Assert.Equal(0, plan.ExitCode);
        Assert.Contains($"object store: endpoint {proxy.Endpoint}, region us-east-1, path-style addressing, 16 transfers, credentials ****** from AWS_ACCESS_KEY_ID", plan.Stdout);
        Assert.Equal(0, result.ExitCode);
        Assert.True(File.Exists(Path.Combine(result.JobDir, "app/blob.sha")));
        Assert.All(proxy.Seen, s => Assert.Contains("Credential=S3RVER/", s.Request.Headers["Authorization"]));
        foreach (var text in new[] { plan.Stdout, planRun.Stderr, result.Stdout, launch.Stderr, result.Log })
            Assert.DoesNotContain(SecretKey, text);
    }

    // --- log upload ---

    [Theory]
    [InlineData("job-77", "dls-log-job-77")]
    [InlineData("", "dls-log-unknown-id")]
    public async Task The_log_lands_under_dls_log_JOBID_with_the_log_s_bytes(string jobId, string folder)
    {
        string logs = $"logs/{Guid.NewGuid():N}";
        var result = await Launcher()
            .Set("DLS_USE_UPLOADER", "1").Set("DLS_UPLOAD_LOG_OBS_DIR", $"obs://{Bucket}/{logs}").Set("DLS_DLKS_JOB_ID", jobId)
            .Args("--", "echo", "a line for the uploaded log").RunAsync();

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("a line for the uploaded log\n", result.Log);
        Assert.Equal(File.ReadAllBytes(result.LogFile), await ReadObjectAsync($"{logs}/{folder}/task.log"));
    }

    [Fact]
    public async Task Auto_uploads_the_log_with_the_built_in_client_when_dls_downloader_is_missing()
    {
        string logs = $"logs/{Guid.NewGuid():N}";
        var run = new LauncherRun(dir);
        foreach (var (name, value) in S3rverFixture.Environment(s3.Endpoint)) run.Set(name, value);
        var result = await run
            .Set("DLS_USE_UPLOADER", "1").Set("DLS_UPLOAD_LOG_OBS_DIR", $"obs://{Bucket}/{logs}/").Set("DLS_DLKS_JOB_ID", "j1")
            .Args("--dls-downloader", "/nonexistent/dls-downloader", "--", "echo", "auto").RunAsync();

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("auto\n"u8.ToArray(), await ReadObjectAsync($"{logs}/dls-log-j1/task.log"));
    }

    [Fact]
    public async Task A_failed_log_upload_is_appended_to_the_log_and_keeps_the_status()
    {
        var result = await Launcher()
            .Set("DLS_USE_UPLOADER", "1").Set("DLS_UPLOAD_LOG_OBS_DIR", "obs://missing-bucket/logs").Set("DLS_DLKS_JOB_ID", "j2")
            .Args("--", "/bin/sh", "-c", "echo before; exit 3").RunAsync();

        Assert.Equal(3, result.ExitCode);
        Assert.StartsWith("before\nLog upload error: ", result.Log);
        Assert.Contains("bucket 'missing-bucket' does not exist", result.Log);
        Assert.EndsWith("\n", result.Log);
    }

    // --- output upload ---

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public async Task The_output_dir_is_uploaded_after_the_command_whatever_its_status(int status)
    {
        string train = $"train/{Guid.NewGuid():N}";
        var result = await Launcher().Set("DLS_TRAIN_URL", $"obs://{Bucket}/{train}/")
            .Args(["--output-dir", "out", "--", .. Shell($"mkdir -p out/ckpt && printf 'weights {status}' > out/ckpt/model.bin && printf 'done' > out/metrics.json && exit {status}")])
            .RunAsync();

        Assert.Equal(status, result.ExitCode);
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes($"weights {status}"), await ReadObjectAsync($"{train}/ckpt/model.bin"));
        Assert.Equal("done"u8.ToArray(), await ReadObjectAsync($"{train}/metrics.json"));
        Assert.Equal(new[] { $"{train}/ckpt/model.bin", $"{train}/metrics.json" }, await KeysAsync(train));
    }

    [Fact]
    public async Task The_output_dir_is_uploaded_after_SIGTERM_to_the_launcher()
    {
        string train = $"train/{Guid.NewGuid():N}";
        string ready = dir["ready"];
        var run = Launcher().Set("DLS_TRAIN_URL", $"obs://{Bucket}/{train}/")
            .Args(["--output-dir", "out", "--", .. Shell(
                "mkdir -p out; printf early > out/early.txt; " +
                "trap 'printf stopped > out/last.txt; exit 143' TERM; " +
                $"touch '{ready}'; while :; do sleep 0.05; done")]);
        using var launcher = run.Start();
        var collecting = run.CollectAsync(launcher);
        await Until(() => File.Exists(ready));
        System.Diagnostics.Process.Start("kill", ["-TERM", launcher.Id.ToString()])!.WaitForExit();
        var result = await collecting;

        Assert.Equal(143, result.ExitCode);
        Assert.Equal("early"u8.ToArray(), await ReadObjectAsync($"{train}/early.txt"));
        Assert.Equal("stopped"u8.ToArray(), await ReadObjectAsync($"{train}/last.txt"));
    }

    [Fact]
    public async Task Output_dir_without_DLS_TRAIN_URL_gives_125_with_one_line()
    {
        var result = await Launcher().Args("--output-dir", "out", "--", "touch", dir["ran"]).RunAsync();

        Assert.Equal(125, result.ExitCode);
        var error = Assert.Single(result.Messages, l => l.Contains("error:"));
        Assert.Contains("--output-dir is set but DLS_TRAIN_URL is empty", error);
        Assert.False(File.Exists(dir["ran"]));
    }

    // --- helpers ---

    private static string Entry(string root, string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(root, file));
        return $"{bytes.Length} {TestTree.Sha256(bytes)}";
    }

    private Task<byte[]> ReadObjectAsync(string key) => s3.ReadObjectAsync(Bucket, key);

    private Task<List<string>> KeysAsync(string prefix) => s3.KeysAsync(Bucket, prefix);

    private static string Listing(string prefix, params string[] keys) => Listing(prefix, [.. keys.Select(k => (k, 4L))]);

    private static string Listing(string prefix, (string Key, long Size)[] keys, string? next = null) =>
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        + $"<Name>{Bucket}</Name><Prefix>{prefix}</Prefix><KeyCount>{keys.Length}</KeyCount><MaxKeys>1000</MaxKeys>"
        + $"<IsTruncated>{(next is null ? "false" : "true")}</IsTruncated>"
        + (next is { Length: > 0 } ? $"<NextContinuationToken>{next}</NextContinuationToken>" : "")
        + string.Concat(keys.Select(k => $"<Contents><Key>{k.Key}</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><Size>{k.Size}</Size><ETag>\"x\"</ETag><StorageClass>STANDARD</StorageClass></Contents>"))
        + "</ListBucketResult>";

    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in 60 s");
            await Task.Delay(20);
        }
    }
}
