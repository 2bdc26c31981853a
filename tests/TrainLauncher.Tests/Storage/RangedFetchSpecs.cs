using System.Security.Cryptography;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging.Abstractions;
using TrainLauncher.Storage;
using TrainLauncher.Tests.Storage.Support;

namespace TrainLauncher.Tests.Storage;

/// <summary>
/// Issue 13: a large object comes in ranges fetched in parallel and written in place; a range
/// that fails resumes where it stopped; the ETag still means something (single-part MD5 hashed
/// in order, multipart ETag rebuilt from the ranges). Through <see cref="FaultProxy"/> in front
/// of a real s3rver. s3rver gives a multipart object the whole body's MD5 as its ETag; the
/// proxy lists it with the ETag S3 and OBS give it (MD5 of the parts' MD5s, "-N").
/// </summary>
public class RangedFetchSpecs(S3rverFixture s3) : IClassFixture<S3rverFixture>, IAsyncLifetime
{
    private const string Bucket = "ranged";
    private const int MiB = 1 << 20;

    private static readonly TransferTuning Tuning = TransferTuning.Default with
    {
        MaxRetries = 4,
        BaseDelay = TimeSpan.FromMilliseconds(1),
        MaxDelay = TimeSpan.FromMilliseconds(10),
        IdleTimeout = TimeSpan.FromSeconds(5),
        RangeSize = 8 * MiB,
        PartSize = 8 * MiB,
    };

    private readonly DirectoryInfo work = Directory.CreateTempSubdirectory("storage-ranged-");
    private FaultProxy proxy = null!;
    private byte[] single = [];
    private byte[] multipart = [];
    private string storedMultipartETag = "";
    private Func<ProxyRequest, Fault?> faults = _ => null;

    private string Target => Path.Combine(work.FullName, "job", "app");

    public async Task InitializeAsync()
    {
        proxy = new FaultProxy(s3.Port);
        single = Bytes(1, 20 * MiB + 12345);
        multipart = Bytes(2, 28 * MiB + 7);
        using var raw = s3.RawClient();
        if ((await raw.ListBucketsAsync()).Buckets?.Any(b => b.BucketName == Bucket) != true)
            await SeedAsync(raw);
        storedMultipartETag = (await raw.GetObjectMetadataAsync(Bucket, "multi/model.bin")).ETag.Trim('"');
        proxy.Rule = r => r.IsList && r.Query.Contains("prefix=multi")
            ? new Fault.Rewrite(body => body.Replace(storedMultipartETag, MultipartETag(multipart, 8 * MiB)))
            : faults(r);
    }

    private async Task SeedAsync(Amazon.S3.AmazonS3Client raw)
    {
        await s3.CreateBucketAsync(Bucket);
        // One PUT: the ETag is the body's MD5.
        await raw.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "single/model.bin", InputStream = new MemoryStream(single), UseChunkEncoding = false });
        // Parts of 8 MiB from our own uploader: the ETag is "md5-of-md5s-4".
        var local = Path.Combine(work.FullName, "upload");
        Directory.CreateDirectory(local);
        File.WriteAllBytes(Path.Combine(local, "model.bin"), multipart);
        using var store = new ObjectStore(s3.Settings(), Tuning);
        await store.UploadDirectoryAsync(local, ObjectUrl.Parse($"obs://{Bucket}/multi/"), NullLogger.Instance, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await proxy.DisposeAsync();
        work.Delete(recursive: true);
    }

    [Theory]
    [InlineData("single", 3)]
    [InlineData("multi", 4)]
    public async Task A_large_object_comes_in_parallel_ranges_and_is_identical(string prefix, int ranges)
    {
        await FetchAsync(prefix);

        Assert.Equal(Sha(prefix == "single" ? single : multipart), Sha(File.ReadAllBytes(Path.Combine(Target, "model.bin"))));
        var gets = proxy.Seen.Where(s => s.Request.IsGetObject).Select(s => s.Request.Headers.GetValueOrDefault("Range")).ToList();
        Assert.Equal(ranges, gets.Count);
        Assert.All(gets, range => Assert.StartsWith("bytes=", range));
        Assert.All(proxy.Seen.Where(s => s.Request.IsGetObject), s => Assert.True(s.Request.Headers.ContainsKey("If-Match")));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_multipart_upload_checks_the_completed_object_s_ETag_against_the_parts_sent(bool right)
    {
        var local = Path.Combine(work.FullName, "check");
        Directory.CreateDirectory(local);
        File.WriteAllBytes(Path.Combine(local, "weights.bin"), multipart);
        var etag = right ? MultipartETag(multipart, 8 * MiB) : MultipartETag(single, 8 * MiB);
        faults = r => r.IsCompleteMultipart ? new Fault.Rewrite(body => System.Text.RegularExpressions.Regex.Replace(body, "<ETag>[^<]*</ETag>", $"<ETag>&quot;{etag}&quot;</ETag>")) : null;
        using var store = new ObjectStore(s3.Settings(proxy.Endpoint), Tuning);

        var upload = store.UploadDirectoryAsync(local, ObjectUrl.Parse($"obs://{Bucket}/check-{right}/"), NullLogger.Instance, CancellationToken.None);

        if (right)
        {
            await upload;
            return;
        }
        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => upload);
        Assert.EndsWith($"the stored object's ETag {etag} does not match the parts sent ({MultipartETag(multipart, 8 * MiB)})", error.Message);
    }

    [Fact]
    public async Task A_range_cut_mid_body_resumes_where_it_stopped()
    {
        faults = FaultProxy.FirstN(1, r => r.IsGetObject && (r.Headers.GetValueOrDefault("Range") ?? "").StartsWith("bytes=8388608-"), new Fault.ResetAfter(3 * MiB));

        await FetchAsync("single");

        Assert.Equal(Sha(single), Sha(File.ReadAllBytes(Path.Combine(Target, "model.bin"))));
        var second = proxy.Seen.Where(s => s.Request.IsGetObject).Select(s => s.Request.Headers["Range"]).ToList();
        Assert.Equal(4, second.Count); // three ranges and the rest of the cut one
        var resumed = Assert.Single(second, r => r.StartsWith("bytes=") && !r.StartsWith("bytes=0-") && !r.StartsWith("bytes=8388608-") && !r.StartsWith("bytes=16777216-"));
        var start = long.Parse(resumed["bytes=".Length..resumed.IndexOf('-')]);
        Assert.InRange(start, 8 * MiB + 1, 16 * MiB - 1); // not from the start of the range again
    }

    [Theory]
    [InlineData("single")]
    [InlineData("multi")]
    public async Task A_range_damaged_once_is_caught_by_the_ETag_and_fetched_again(string prefix)
    {
        faults = FaultProxy.FirstN(1, r => r.IsGetObject && (r.Headers.GetValueOrDefault("Range") ?? "").StartsWith("bytes=8388608-"), new Fault.Corrupt());

        await FetchAsync(prefix);

        Assert.Equal(Sha(prefix == "single" ? single : multipart), Sha(File.ReadAllBytes(Path.Combine(Target, "model.bin"))));
        Assert.Single(proxy.Seen, s => s.Fault is Fault.Corrupt);
    }

    [Theory]
    [InlineData("single")]
    [InlineData("multi")]
    public async Task A_range_that_is_always_damaged_fails_the_fetch_with_one_line(string prefix)
    {
        faults = r => r.IsGetObject && (r.Headers.GetValueOrDefault("Range") ?? "").StartsWith("bytes=8388608-") ? new Fault.Corrupt() : null;

        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => FetchAsync(prefix));

        Assert.StartsWith($"cannot fetch obs://{Bucket}/{prefix}/model.bin: the body does not match ETag ", error.Message);
        Assert.Equal(2, proxy.Seen.Count(s => s.Fault is Fault.Corrupt)); // the first download and one more
    }

    [Fact]
    public async Task An_object_replaced_during_the_fetch_fails_with_one_line()
    {
        faults = r => r.IsGetObject && (r.Headers.GetValueOrDefault("Range") ?? "").StartsWith("bytes=8388608-") ? new Fault.Status(412, "PreconditionFailed") : null;

        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => FetchAsync("single"));

        Assert.Equal($"cannot fetch obs://{Bucket}/single/model.bin: the object changed during the fetch (412 PreconditionFailed)", error.Message);
    }

    private async Task FetchAsync(string prefix)
    {
        if (Directory.Exists(Target)) Directory.Delete(Target, recursive: true);
        using var store = new ObjectStore(s3.Settings(proxy.Endpoint), Tuning);
        await store.DownloadPrefixAsync(ObjectUrl.Parse($"obs://{Bucket}/{prefix}/"), Target, NullLogger.Instance, CancellationToken.None);
    }

    private static byte[] Bytes(int seed, int length)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static string Sha(byte[] data) => TestTree.Sha256(data);

    /// <summary>The ETag S3 gives an object uploaded in parts of <paramref name="partSize"/>: MD5 of the parts' MD5s, "-N".</summary>
    private static string MultipartETag(byte[] data, int partSize)
    {
        var parts = Enumerable.Range(0, (data.Length + partSize - 1) / partSize)
            .Select(i => MD5.HashData(data.AsSpan(i * partSize, Math.Min(partSize, data.Length - i * partSize)))).ToArray();
        return $"{Convert.ToHexStringLower(MD5.HashData(parts.SelectMany(p => p).ToArray()))}-{parts.Length}";
    }
}
