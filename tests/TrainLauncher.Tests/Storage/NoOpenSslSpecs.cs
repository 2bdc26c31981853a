using Microsoft.Extensions.Logging.Abstractions;
using TrainLauncher.Storage;
using TrainLauncher.Tests.Storage.Support;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Storage;

/// <summary>
/// Issue 11, TLS on old bases: an image where no libssl .NET accepts loads (distroless, minimal
/// bases). The launcher runs in a mount namespace of its own where every libssl of this machine
/// is covered by /dev/null (dlopen then fails as on a base without it). Without the probe .NET
/// prints "No usable version of libssl was found" and aborts (status 134), even after the command.
/// </summary>
public sealed class NoOpenSslSpecs(S3rverFixture s3) : IClassFixture<S3rverFixture>, IAsyncLifetime
{
    private const string Bucket = "nossl";
    private const string App = "s3://nossl/app/";
    private readonly TempDir dir = new();

    public async Task InitializeAsync()
    {
        using var raw = s3.RawClient();
        if ((await raw.ListBucketsAsync()).Buckets?.Any(b => b.BucketName == Bucket) == true)
            return;
        await s3.CreateBucketAsync(Bucket);
        dir.Write("source/run.sh", "echo ran\n");
        using var seed = new ObjectStore(s3.Settings());
        await seed.UploadDirectoryAsync(dir["source"], ObjectUrl.Parse(App), NullLogger.Instance, CancellationToken.None);
    }

    public Task DisposeAsync()
    {
        dir.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>unshare -m, /dev/null bound over each libssl.so.* that ldconfig knows (none found: exit 98), then the launcher.</summary>
    private static readonly string[] WithoutLibssl =
    [
        "unshare", "-m", "sh", "-c",
        "n=0; for lib in $(/sbin/ldconfig -p | sed -n 's/^\\s*libssl\\.so\\.[^ ]* .*=> //p'); do mount --bind /dev/null \"$lib\" || exit 99; n=$((n+1)); done; "
        + "[ $n -gt 0 ] || exit 98; exec \"$@\"",
        "sh",
    ];

    private LauncherRun Launcher(string endpoint, bool signed = true)
    {
        var run = new LauncherRun(dir).Args("--downloader", "builtin").Set("OBS_ENDPOINT", endpoint);
        if (signed) run.Set("AWS_ACCESS_KEY_ID", "S3RVER").Set("AWS_SECRET_ACCESS_KEY", "S3RVER");
        return run;
    }

    private static async Task<LauncherResult> RunWithoutLibsslAsync(LauncherRun run)
    {
        using var process = run.Start(WithoutLibssl);
        var result = await run.CollectAsync(process);
        Assert.DoesNotContain("No usable version of libssl", run.Stderr + result.Stdout);
        return result;
    }

    [Theory]
    [InlineData("http", true)]   // signing is HMAC-SHA256 through OpenSSL, even over http
    [InlineData("https", false)] // TLS
    public async Task A_fetch_that_needs_openssl_fails_with_127_and_one_line_naming_what_is_missing_and_what_works(string scheme, bool signed)
    {
        var run = Launcher($"{scheme}://127.0.0.1:{s3.Port}", signed).Set("DLS_APP_URL", App).Args("sh", "app/run.sh");

        var result = await RunWithoutLibsslAsync(run);

        Assert.True(result.ExitCode == 127, result.Stdout + run.Stderr);
        string line = Assert.Single(result.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"App download error: cannot fetch {App}: the built-in client needs OpenSSL", line);
        Assert.Contains("no libssl loads in this image (tried libssl.so.3, libssl.so.1.1, libssl.so.1.0.2, libssl.so.1.0.0, libssl.so.10)", line);
        Assert.Contains("dls-downloader (DLS_USE_DOWNLOADER=1)", line);
        Assert.DoesNotContain("ran", result.Stdout.Split('\n'));
        Assert.False(Directory.Exists(Path.Combine(result.JobDir, "app")));
    }

    [Fact]
    public async Task An_anonymous_fetch_over_http_still_works_without_openssl()
    {
        var run = Launcher($"http://127.0.0.1:{s3.Port}", signed: false).Set("DLS_APP_URL", App).Args("sh", "app/run.sh");

        var result = await RunWithoutLibsslAsync(run);

        Assert.True(result.ExitCode == 0, result.Stdout + run.Stderr);
        Assert.Equal("ran\n", result.Log);
    }

    [Fact]
    public async Task Uploads_after_the_command_fail_with_one_warning_each_and_keep_the_commands_status()
    {
        var run = Launcher($"http://127.0.0.1:{s3.Port}")
            .Set("DLS_TRAIN_URL", "s3://nossl/out/")
            .Set("DLS_USE_UPLOADER", "1").Set("DLS_UPLOAD_LOG_OBS_DIR", "s3://nossl/logs/")
            .Args("--output-dir", "out", "sh", "-c", "mkdir -p out && echo weights > out/model.txt; exit 4");

        var result = await RunWithoutLibsslAsync(run);

        Assert.True(result.ExitCode == 4, result.Stdout + run.Stderr);
        var warning = Assert.Single(result.Messages, m => m.Contains("the output upload failed"));
        Assert.Contains("cannot upload to s3://nossl/out/: the built-in client needs OpenSSL", warning);
        Assert.Contains("no libssl loads in this image", warning);
        Assert.Single(result.Messages, m => m.Contains("the log upload failed; the reason is in the log"));
        Assert.Contains("Log upload error: cannot upload to s3://nossl/logs/dls-log-unknown-id/: the built-in client needs OpenSSL", result.Log);
        Assert.Contains("[trainlauncher] exit status 4", result.Messages);
    }
}
