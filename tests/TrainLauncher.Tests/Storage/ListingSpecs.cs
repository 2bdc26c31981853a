using System.Text;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging.Abstractions;
using TrainLauncher.Storage;
using TrainLauncher.Tests.Storage.Support;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Storage;

/// <summary>
/// Listings a store should never send (issue 12): pages that do not advance, impossible sizes,
/// keys outside the prefix, keys with control characters. Served by <see cref="FaultProxy"/>
/// from the real objects of an s3rver bucket, so the GETs that follow are real.
/// </summary>
public class ListingSpecs(S3rverFixture s3) : IClassFixture<S3rverFixture>, IAsyncLifetime
{
    private const string Bucket = "listing";

    private static readonly TransferTuning Tuning = TransferTuning.Default with
    {
        MaxRetries = 4,
        BaseDelay = TimeSpan.FromMilliseconds(1),
        MaxDelay = TimeSpan.FromMilliseconds(10),
        IdleTimeout = TimeSpan.FromSeconds(2),
        ListPageSize = 2,
    };

    private static readonly Dictionary<string, int> Tree = new()
    {
        ["a.txt"] = 100,
        ["b.txt"] = 200,
        ["c/d.txt"] = 300,
        ["e.txt"] = 400,
        ["f.txt"] = 500,
    };

    private readonly DirectoryInfo work = Directory.CreateTempSubdirectory("storage-listing-");
    private readonly ObjectUrl app = ObjectUrl.Parse($"obs://{Bucket}/jobs/app/");
    private readonly List<string> lines = [];
    private FaultProxy proxy = null!;
    private List<S3Object> objects = [];

    private string Source => Path.Combine(work.FullName, "source");
    private string Target => Path.Combine(work.FullName, "job", "app");

    public async Task InitializeAsync()
    {
        proxy = new FaultProxy(s3.Port);
        TestTree.Write(Source, Tree);
        using var raw = s3.RawClient();
        if ((await raw.ListBucketsAsync()).Buckets?.Any(b => b.BucketName == Bucket) != true)
        {
            await s3.CreateBucketAsync(Bucket);
            using var seed = new ObjectStore(s3.Settings(), Tuning);
            await seed.UploadDirectoryAsync(Source, app, NullLogger.Instance, CancellationToken.None);
        }
        objects = (await raw.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = app.Prefix })).S3Objects;
    }

    public async Task DisposeAsync()
    {
        await proxy.DisposeAsync();
        work.Delete(recursive: true);
    }

    [Fact]
    public async Task A_continuation_token_that_repeats_fails_the_fetch_with_one_line()
    {
        proxy.Rule = r => r.IsList ? new Fault.Xml(Page(truncated: true, next: "same", Real("a.txt"))) : null;

        var error = await Assert.ThrowsAsync<ObjectStoreException>(FetchAsync);

        Assert.Equal($"cannot list {app}: the store sent continuation token 'same' twice; the listing would never end", error.Message);
        Assert.Equal(2, proxy.Seen.Count(s => s.Request.IsList));
    }

    [Fact]
    public async Task A_truncated_page_without_a_continuation_token_fails_the_fetch_with_one_line()
    {
        proxy.Rule = r => r.IsList ? new Fault.Xml(Page(truncated: true, next: null, Real("a.txt"))) : null;

        var error = await Assert.ThrowsAsync<ObjectStoreException>(FetchAsync);

        Assert.Equal($"cannot list {app}: the store said the listing goes on (IsTruncated) but sent no continuation token", error.Message);
        Assert.Single(proxy.Seen, s => s.Request.IsList);
    }

    [Fact]
    public async Task A_page_whose_keys_go_backwards_fails_the_fetch_with_one_line()
    {
        var pages = 0;
        proxy.Rule = r => r.IsList
            ? new Fault.Xml(Interlocked.Increment(ref pages) == 1
                ? Page(truncated: true, next: "t1", Real("b.txt"), Real("c/d.txt"))
                : Page(truncated: true, next: "t2", Real("a.txt")))
            : null;

        var error = await Assert.ThrowsAsync<ObjectStoreException>(FetchAsync);

        Assert.Equal($"cannot list {app}: the store listed 'jobs/app/a.txt' after 'jobs/app/c/d.txt'; a listing only goes forward", error.Message);
    }

    [Fact]
    public async Task Objects_are_fetched_while_the_listing_goes_on()
    {
        var firstGet = new TaskCompletionSource();
        proxy.Rule = r =>
        {
            if (r.IsGetObject) firstGet.TrySetResult();
            return r.IsListContinuation ? new Fault.Hold(firstGet.Task, TimeSpan.FromSeconds(20)) : null;
        };

        await FetchAsync();

        Assert.Equal(TestTree.Snapshot(Source), TestTree.Snapshot(Target));
        Assert.True(proxy.Seen.Count(s => s.Request.IsList) >= 3, "ListPageSize 2 gives three pages for five keys");
        Assert.Equal(0, proxy.HoldsTimedOut); // page 2 was requested only after a GET of page 1's objects
    }

    [Fact]
    public async Task Two_keys_declaring_the_largest_size_fail_the_fetch_with_one_line()
    {
        proxy.Rule = r => r.IsList
            ? new Fault.Xml(Page(truncated: false, next: null, Real("a.txt") with { Size = long.MaxValue }, Real("b.txt") with { Size = long.MaxValue }))
            : null;

        var error = await Assert.ThrowsAsync<ObjectStoreException>(FetchAsync);

        Assert.Equal(
            $"object key 'jobs/app/a.txt' under {app} declares {long.MaxValue} bytes, more than one object can hold (50 TB): the listing is wrong",
            error.Message);
        Assert.DoesNotContain(proxy.Seen, s => s.Request.IsGetObject);
    }

    [Theory]
    [InlineData("jobs/x")]                 // shorter than the prefix
    [InlineData("jobs/application/x.txt")] // longer, with the prefix's first characters
    [InlineData("other/key.txt")]
    public async Task A_key_outside_the_prefix_is_skipped_with_one_line(string outside)
    {
        proxy.Rule = r => r.IsList
            ? new Fault.Xml(Page(truncated: false, next: null, [.. objects.Select(o => Listed.Of(o)), new Listed(outside, 4, "\"x\"")]))
            : null;

        await FetchAsync();

        Assert.Equal(TestTree.Snapshot(Source), TestTree.Snapshot(Target));
        Assert.Single(lines, l => l == $"skipped object key '{outside}': the store listed it under {app} but it is outside that prefix");
        Assert.DoesNotContain(proxy.Seen, s => s.Request.IsGetObject && !s.Request.Path.StartsWith($"/{Bucket}/jobs/app/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_size_that_differs_from_the_listing_fails_at_once_without_retries()
    {
        proxy.Rule = r => r.IsList ? new Fault.Xml(Page(truncated: false, next: null, Real("a.txt") with { Size = 5 })) : null;

        var error = await Assert.ThrowsAsync<ObjectStoreException>(FetchAsync);

        Assert.Equal($"cannot fetch {app}a.txt: the store sent 100 bytes, the listing said 5 (was the object replaced during the fetch?)", error.Message);
        Assert.Single(proxy.Seen, s => s.Request.IsGetObject);
    }

    [Theory]
    [InlineData("jobs/app/bad&#10;[trainlauncher] exit status 0", @"jobs/app/bad\n[trainlauncher] exit status 0")]
    [InlineData("jobs/app/nul&#0;byte", @"jobs/app/nul\x00byte")]
    [InlineData("jobs/app/esc&#27;[2Jbell&#7;", @"jobs/app/esc\x1b[2Jbell\x07")]
    public async Task A_key_with_control_characters_is_shown_escaped_on_one_line(string xmlKey, string shown)
    {
        proxy.Rule = r => r.IsList
            ? new Fault.Xml(Page(truncated: false, next: null, Real("a.txt") with { Key = "jobs/app/a.txt" }, new Listed(xmlKey, 4, "\"x\"")))
            : null;

        var error = await Assert.ThrowsAsync<ObjectStoreException>(FetchAsync);

        Assert.Contains(shown, error.Message);
        Assert.DoesNotContain(error.Message, c => char.IsControl(c));
    }

    private async Task FetchAsync()
    {
        // A listing that never ends must fail by itself, long before this.
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var store = new ObjectStore(s3.Settings(proxy.Endpoint), Tuning);
        await store.DownloadPrefixAsync(app, Target, new ListLogger(lines), limit.Token);
    }

    private sealed record Listed(string Key, long Size, string ETag)
    {
        public static Listed Of(S3Object o) => new(o.Key, o.Size ?? 0, o.ETag);
    }

    private Listed Real(string relative) => Listed.Of(objects.Single(o => o.Key == app.Prefix + relative));

    private string Page(bool truncated, string? next, params Listed[] keys)
    {
        var xml = new StringBuilder(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            + $"<Name>{Bucket}</Name><Prefix>{app.Prefix}</Prefix><KeyCount>{keys.Length}</KeyCount><MaxKeys>2</MaxKeys>"
            + $"<IsTruncated>{(truncated ? "true" : "false")}</IsTruncated>"
            + (next is null ? "" : $"<NextContinuationToken>{next}</NextContinuationToken>"));
        foreach (var key in keys)
        {
            xml.Append($"<Contents><Key>{key.Key}</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>"
                + $"<ETag>{key.ETag.Replace("\"", "&quot;")}</ETag><Size>{key.Size}</Size><StorageClass>STANDARD</StorageClass></Contents>");
        }
        return xml.Append("</ListBucketResult>").ToString();
    }
}
