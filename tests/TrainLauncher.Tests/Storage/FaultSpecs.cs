using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using TrainLauncher.Storage;
using TrainLauncher.Tests.Storage.Support;

namespace TrainLauncher.Tests.Storage;

/// <summary>Fetches through <see cref="FaultProxy"/> in front of a real s3rver.</summary>
public class FaultSpecs(S3rverFixture s3) : IClassFixture<S3rverFixture>, IAsyncLifetime
{
    private static readonly TransferTuning Tuning = TransferTuning.Default with
    {
        MaxRetries = 4,
        BaseDelay = TimeSpan.FromMilliseconds(1),
        MaxDelay = TimeSpan.FromMilliseconds(10),
        IdleTimeout = TimeSpan.FromSeconds(1),
    };

    private static readonly Dictionary<string, int> Tree = new()
    {
        ["train.py"] = 2000,
        ["lib/util.py"] = 500,
        ["lib/empty.py"] = 0,
        ["data/big.bin"] = 3 * 1024 * 1024,
    };

    private readonly DirectoryInfo work = Directory.CreateTempSubdirectory("storage-faults-");
    private readonly ObjectUrl app = ObjectUrl.Parse("obs://faults/jobs/app/");
    private string source = "";
    private FaultProxy proxy = null!;

    // The job dir of a fetch: the caller (CodeFetcher) owns it and removes the target on failure.
    private string JobDir => Path.Combine(work.FullName, "job");
    private string Target => Path.Combine(JobDir, ".fetch-app");

    public async Task InitializeAsync()
    {
        proxy = new FaultProxy(s3.Port);
        source = Path.Combine(work.FullName, "source");
        TestTree.Write(source, Tree);
        Directory.CreateDirectory(JobDir);
        if (await BucketExistsAsync())
            return;
        await s3.CreateBucketAsync("faults");
        using var direct = new ObjectStore(s3.Settings(), Tuning);
        await direct.UploadDirectoryAsync(source, app, NullLogger.Instance, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await proxy.DisposeAsync();
        work.Delete(recursive: true);
    }

    [Fact]
    public async Task Server_errors_and_throttling_with_retries_left_still_give_an_identical_tree()
    {
        var listFaults = FaultProxy.FirstN(2, r => r.IsList, new Fault.Status(500, "InternalError"));
        var getFaults = FaultProxy.FirstN(4, r => r.IsGetObject, new Fault.Status(503, "SlowDown"));
        proxy.Rule = r => listFaults(r) ?? getFaults(r);

        await FetchThroughProxyAsync();

        Assert.Equal(TestTree.Snapshot(source), TestTree.Snapshot(Target));
        Assert.Equal(6, proxy.Seen.Count(s => s.Fault is Fault.Status));
    }

    [Fact]
    public async Task A_connection_reset_mid_body_is_retried_from_the_start_of_the_object()
    {
        proxy.Rule = FaultProxy.FirstN(2, r => r.IsGetObject && r.Path.EndsWith("big.bin"), new Fault.ResetAfter(64 * 1024));

        await FetchThroughProxyAsync();

        Assert.Equal(TestTree.Snapshot(source), TestTree.Snapshot(Target));
        Assert.Equal(2, proxy.Seen.Count(s => s.Fault is Fault.ResetAfter));
    }

    [Fact]
    public async Task A_stalled_response_times_out_and_is_retried()
    {
        proxy.Rule = FaultProxy.FirstN(1, r => r.IsGetObject && r.Path.EndsWith("train.py"), new Fault.Stall());

        await FetchThroughProxyAsync();

        Assert.Equal(TestTree.Snapshot(source), TestTree.Snapshot(Target));
        Assert.Equal(2, proxy.Seen.Count(s => s.Request.Path.EndsWith("train.py")));
    }

    [Fact]
    public async Task Without_retries_left_the_fetch_fails_with_one_line_and_writes_only_into_the_target()
    {
        proxy.Rule = r => r.IsGetObject && r.Path.EndsWith("util.py") ? new Fault.Status(503, "SlowDown") : null;

        var error = await Assert.ThrowsAsync<ObjectStoreException>(FetchThroughProxyAsync);

        Assert.Equal("cannot fetch obs://faults/jobs/app/lib/util.py: 503 SlowDown: injected SlowDown (after 5 attempts)", error.Message);
        Assert.Equal(5, proxy.Seen.Count(s => s.Request.Path.EndsWith("util.py")));
        AssertOnlyTargetWasWritten();
    }

    [Fact]
    public async Task A_body_that_does_not_match_its_ETag_fails_the_fetch()
    {
        proxy.Rule = r => r.IsGetObject && r.Path.EndsWith("train.py") ? new Fault.Corrupt() : null;

        var error = await Assert.ThrowsAsync<ObjectStoreException>(FetchThroughProxyAsync);

        Assert.StartsWith("cannot fetch obs://faults/jobs/app/train.py: MD5 mismatch: the body does not match ETag ", error.Message);
        Assert.EndsWith("(after 5 attempts)", error.Message);
        AssertOnlyTargetWasWritten();
    }

    [Theory]
    [InlineData("jobs/app/../../escape.txt")]
    [InlineData("jobs/app//etc/escape.txt")]
    [InlineData("jobs/app/lib/../../../escape.txt")]
    public async Task A_key_that_would_escape_the_target_fails_before_anything_is_written(string badKey)
    {
        proxy.Rule = r => r.IsList ? new Fault.Xml(Listing("faults", "jobs/app/", "jobs/app/train.py", badKey)) : null;

        var error = await Assert.ThrowsAsync<ObjectStoreException>(FetchThroughProxyAsync);

        Assert.StartsWith($"unsafe object key '{badKey}' under obs://faults/jobs/app/", error.Message);
        Assert.Contains("would write outside the target", error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(JobDir));
        Assert.Empty(Directory.EnumerateFiles(work.FullName, "escape.txt", new EnumerationOptions { RecurseSubdirectories = true }));
        Assert.DoesNotContain(proxy.Seen, s => s.Request.IsGetObject);
    }

    [Fact]
    public async Task Wrong_credentials_fail_at_once_with_a_clear_line_and_no_retries()
    {
        proxy.Rule = r => r.Headers.TryGetValue("Authorization", out var auth) && auth.Contains("Credential=S3RVER/")
            ? null
            : new Fault.Status(403, "InvalidAccessKeyId");
        using var store = new ObjectStore(s3.Settings(proxy.Endpoint, keyId: "WRONGKEY1"), Tuning);

        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => store.DownloadPrefixAsync(app, Target, NullLogger.Instance, CancellationToken.None));

        Assert.Equal(
            $"cannot list obs://faults/jobs/app/: access denied by {proxy.Endpoint} (InvalidAccessKeyId): check the access key id and secret key (WRON***** from AWS_ACCESS_KEY_ID)",
            error.Message);
        Assert.Single(proxy.Seen);
        Assert.Empty(Directory.EnumerateFileSystemEntries(JobDir));
    }

    [Fact]
    public async Task An_unknown_bucket_is_named()
    {
        using var store = new ObjectStore(s3.Settings(), Tuning);

        var error = await Assert.ThrowsAsync<ObjectStoreException>(() =>
            store.DownloadPrefixAsync(ObjectUrl.Parse("obs://no-such-bucket/app/"), Target, NullLogger.Instance, CancellationToken.None));

        Assert.Equal($"cannot list obs://no-such-bucket/app/: bucket 'no-such-bucket' does not exist at {s3.Endpoint}", error.Message);
    }

    [Fact]
    public async Task An_empty_prefix_is_an_error_not_an_empty_directory()
    {
        using var store = new ObjectStore(s3.Settings(), Tuning);

        var error = await Assert.ThrowsAsync<ObjectStoreException>(() =>
            store.DownloadPrefixAsync(ObjectUrl.Parse("obs://faults/jobs/nothing/"), Target, NullLogger.Instance, CancellationToken.None));

        Assert.Equal("no objects under obs://faults/jobs/nothing/: the prefix is empty or does not exist", error.Message);
        Assert.False(Directory.Exists(Target));
    }

    [Fact]
    public async Task An_endpoint_that_refuses_connections_fails_after_the_retries_with_a_clear_line()
    {
        var closed = $"http://127.0.0.1:{S3rverFixture.FreePort()}";
        using var store = new ObjectStore(s3.Settings(closed), Tuning);

        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => store.DownloadPrefixAsync(app, Target, NullLogger.Instance, CancellationToken.None));

        Assert.Equal($"cannot list obs://faults/jobs/app/: cannot connect to {closed}: Connection refused (after 5 attempts)", error.Message);
        Assert.False(Directory.Exists(Target));
    }

    [Fact]
    public async Task Uploads_retry_server_errors_and_resets()
    {
        var putErrors = FaultProxy.FirstN(2, r => r.Method == "PUT", new Fault.Status(500, "InternalError"));
        var resets = FaultProxy.FirstN(1, r => r.Method == "PUT", new Fault.ResetAfter(10));
        proxy.Rule = r => putErrors(r) ?? resets(r);
        using var store = new ObjectStore(s3.Settings(proxy.Endpoint), Tuning);
        var output = ObjectUrl.Parse("obs://faults/out/");

        await store.UploadDirectoryAsync(Path.Combine(source, "lib"), output, NullLogger.Instance, CancellationToken.None);

        using var raw = s3.RawClient();
        using var response = await raw.GetObjectAsync("faults", "out/util.py");
        using var body = new MemoryStream();
        await response.ResponseStream.CopyToAsync(body);
        Assert.Equal(File.ReadAllBytes(Path.Combine(source, "lib/util.py")), body.ToArray());
        Assert.Equal(3, proxy.Seen.Count(s => s.Fault is not null));
    }

    [Theory]
    [InlineData("initiate")]
    [InlineData("complete")]
    public async Task A_stalled_multipart_initiate_or_complete_times_out_and_is_retried(string which)
    {
        Func<ProxyRequest, bool> match = which == "initiate" ? r => r.IsInitiateMultipart : r => r.IsCompleteMultipart;
        proxy.Rule = FaultProxy.FirstN(1, match, new Fault.Stall());
        var local = Path.Combine(work.FullName, "multipart");
        TestTree.Write(local, new Dictionary<string, int> { ["weights.bin"] = 6 * 1024 * 1024 + 3 });
        using var store = new ObjectStore(s3.Settings(proxy.Endpoint), Tuning with { PartSize = 5 * 1024 * 1024 });
        var output = ObjectUrl.Parse($"obs://faults/stall-{which}/");

        // Without a watchdog the stalled request waits forever: the test's own limit ends it.
        await store.UploadDirectoryAsync(local, output, NullLogger.Instance, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        using var raw = s3.RawClient();
        using var response = await raw.GetObjectAsync("faults", $"stall-{which}/weights.bin");
        using var body = new MemoryStream();
        await response.ResponseStream.CopyToAsync(body);
        Assert.Equal(TestTree.Sha256(File.ReadAllBytes(Path.Combine(local, "weights.bin"))), TestTree.Sha256(body.ToArray()));
        Assert.Equal(2, proxy.Seen.Count(s => match(s.Request)));
    }

    private async Task FetchThroughProxyAsync()
    {
        using var store = new ObjectStore(s3.Settings(proxy.Endpoint), Tuning);
        await store.DownloadPrefixAsync(app, Target, NullLogger.Instance, CancellationToken.None);
    }

    /// <summary>The module's contract: it wrote into the target only; the caller removes the target.</summary>
    private void AssertOnlyTargetWasWritten()
    {
        Assert.Equal([Target], Directory.EnumerateFileSystemEntries(JobDir));
        Directory.Delete(Target, recursive: true);
        Assert.Empty(Directory.EnumerateFileSystemEntries(JobDir));
    }

    private async Task<bool> BucketExistsAsync()
    {
        using var raw = s3.RawClient();
        return (await raw.ListBucketsAsync()).Buckets?.Any(b => b.BucketName == "faults") == true;
    }

    private static string Listing(string bucket, string prefix, params string[] keys)
    {
        var xml = new StringBuilder(
            $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>{bucket}</Name><Prefix>{prefix}</Prefix><KeyCount>{keys.Length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>");
        foreach (var key in keys)
        {
            var etag = Convert.ToHexStringLower(MD5.HashData("x"u8));
            xml.Append($"<Contents><Key>{key}</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>&quot;{etag}&quot;</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>");
        }
        return xml.Append("</ListBucketResult>").ToString();
    }
}
