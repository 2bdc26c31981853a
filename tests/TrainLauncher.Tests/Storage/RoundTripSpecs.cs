using Amazon.S3.Model;
using Microsoft.Extensions.Logging.Abstractions;
using TrainLauncher.Storage;
using TrainLauncher.Tests.Storage.Support;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Storage;

/// <summary>Uploads and fetches against a real s3rver.</summary>
public class RoundTripSpecs(S3rverFixture s3) : IClassFixture<S3rverFixture>, IDisposable
{
    private static readonly TransferTuning Tuning = TransferTuning.Default with
    {
        BaseDelay = TimeSpan.FromMilliseconds(1),
        MaxDelay = TimeSpan.FromMilliseconds(10),
        ProgressInterval = TimeSpan.FromMilliseconds(200),
    };

    private readonly DirectoryInfo work = Directory.CreateTempSubdirectory("storage-roundtrip-");

    public void Dispose() => work.Delete(recursive: true);

    [Fact]
    public async Task A_tree_with_nested_dirs_empty_files_unicode_names_and_a_100_MB_object_comes_back_identical()
    {
        await s3.CreateBucketAsync("roundtrip");
        var source = Path.Combine(work.FullName, "source");
        TestTree.Write(source, new Dictionary<string, int>
        {
            ["top.txt"] = 1000,
            ["empty.txt"] = 0,
            [".hidden"] = 17,
            ["a/b/c/deep.bin"] = 300_000,
            ["dir with space/файл ü 名前.txt"] = 4096,
            ["big/model.bin"] = 100 * 1000 * 1000,
        }, "empty dir", "a/also empty");
        var url = ObjectUrl.Parse("obs://roundtrip/jobs/app/");
        using var store = new ObjectStore(s3.Settings(), Tuning);
        var lines = new List<string>();

        var up = await store.UploadDirectoryAsync(source, url, new ListLogger(lines), CancellationToken.None);
        var target = Path.Combine(work.FullName, "fetched");
        var down = await store.DownloadPrefixAsync(url, target, new ListLogger(lines), CancellationToken.None);

        Assert.Equal(TestTree.Snapshot(source), TestTree.Snapshot(target));
        Assert.Equal((6, 100_305_113L), (up.Files, up.Bytes));
        Assert.Equal((6, 100_305_113L), (down.Files, down.Bytes));
        Assert.Matches(@"^fetch obs://roundtrip/jobs/app/: 6/6 files, 100\.3 MB in \d+\.\d s, \d+\.\d MB/s$", lines[^1]);
        Assert.All(lines, line => Assert.DoesNotContain(line, char.IsControl));
    }

    [Fact]
    public async Task Uploads_land_under_the_prefix_with_the_right_keys_and_bytes()
    {
        await s3.CreateBucketAsync("uploads");
        var output = Path.Combine(work.FullName, "output");
        TestTree.Write(output, new Dictionary<string, int> { ["model.ckpt"] = 5000, ["logs/run 1.txt"] = 10, ["zero"] = 0 }, "empty");
        var log = Path.Combine(work.FullName, "dls-task-0.log");
        File.WriteAllText(log, "the job log\n");
        using var store = new ObjectStore(s3.Settings(), Tuning);

        await store.UploadDirectoryAsync(output, ObjectUrl.Parse("s3://uploads/train/out"), NullLogger.Instance, CancellationToken.None);
        await store.UploadFileAsync(log, ObjectUrl.Parse("obs://uploads/logs/").Child("dls-log-7"), NullLogger.Instance, CancellationToken.None);

        var stored = await ReadBucketAsync("uploads");
        Assert.Equal(
            [
                "logs/dls-log-7/dls-task-0.log " + TestTree.Sha256(File.ReadAllBytes(log)),
                "train/out/empty/ " + TestTree.Sha256([]),
                "train/out/logs/run 1.txt " + TestTree.Sha256(File.ReadAllBytes(Path.Combine(output, "logs/run 1.txt"))),
                "train/out/model.ckpt " + TestTree.Sha256(File.ReadAllBytes(Path.Combine(output, "model.ckpt"))),
                "train/out/zero " + TestTree.Sha256([]),
            ],
            stored);
    }

    [Fact]
    public async Task A_large_file_goes_up_in_multipart_parts()
    {
        await s3.CreateBucketAsync("multipart");
        var file = Path.Combine(work.FullName, "weights.bin");
        TestTree.Write(work.FullName, new Dictionary<string, int> { ["weights.bin"] = 40 * 1024 * 1024 + 5 });
        await using var proxy = new FaultProxy(s3.Port);
        using var store = new ObjectStore(s3.Settings(proxy.Endpoint), Tuning);

        await store.UploadFileAsync(file, ObjectUrl.Parse("obs://multipart/out/"), NullLogger.Instance, CancellationToken.None);

        var parts = proxy.Seen.Where(s => s.Request.Method == "PUT" && s.Request.Query.Contains("partNumber=")).ToList();
        Assert.Equal(3, parts.Count); // 16 + 16 + 8 MiB
        Assert.Equal([$"out/weights.bin {TestTree.Sha256(File.ReadAllBytes(file))}"], await ReadBucketAsync("multipart"));
    }

    [Fact]
    public async Task Listings_are_followed_across_pages()
    {
        await s3.CreateBucketAsync("pages");
        var source = Path.Combine(work.FullName, "source");
        TestTree.Write(source, Enumerable.Range(0, 7).ToDictionary(i => $"f{i}.txt", i => i * 10));
        using var store = new ObjectStore(s3.Settings(), Tuning with { ListPageSize = 2 });
        var url = ObjectUrl.Parse("obs://pages/p/");
        await store.UploadDirectoryAsync(source, url, NullLogger.Instance, CancellationToken.None);

        var target = Path.Combine(work.FullName, "fetched");
        await store.DownloadPrefixAsync(url, target, NullLogger.Instance, CancellationToken.None);

        Assert.Equal(TestTree.Snapshot(source), TestTree.Snapshot(target));
    }

    [Fact]
    public async Task Directory_marker_keys_become_directories()
    {
        await s3.CreateBucketAsync("markers");
        using var raw = s3.RawClient();
        await raw.PutObjectAsync(new PutObjectRequest { BucketName = "markers", Key = "app/", ContentBody = "", UseChunkEncoding = false });
        await raw.PutObjectAsync(new PutObjectRequest { BucketName = "markers", Key = "app/data/", ContentBody = "", UseChunkEncoding = false });
        await raw.PutObjectAsync(new PutObjectRequest { BucketName = "markers", Key = "app/src/main.py", ContentBody = "print(1)\n", UseChunkEncoding = false });
        using var store = new ObjectStore(s3.Settings(), Tuning);

        var target = Path.Combine(work.FullName, "app");
        await store.DownloadPrefixAsync(ObjectUrl.Parse("obs://markers/app/"), target, NullLogger.Instance, CancellationToken.None);

        Assert.Equal(["data/", "src/", $"src/main.py 9 {TestTree.Sha256("print(1)\n"u8.ToArray())}"], TestTree.Snapshot(target));
    }

    /// <summary>"key sha256" of every object, read with a plain SDK client.</summary>
    private async Task<List<string>> ReadBucketAsync(string bucket)
    {
        using var raw = s3.RawClient();
        var listing = await raw.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket });
        var result = new List<string>();
        foreach (var entry in (listing.S3Objects ?? []).OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            using var response = await raw.GetObjectAsync(bucket, entry.Key);
            using var body = new MemoryStream();
            await response.ResponseStream.CopyToAsync(body);
            result.Add($"{entry.Key} {TestTree.Sha256(body.ToArray())}");
        }
        return result;
    }
}
