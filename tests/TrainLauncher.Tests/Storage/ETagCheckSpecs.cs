using System.Security.Cryptography;
using TrainLauncher.Storage;

namespace TrainLauncher.Tests.Storage;

/// <summary>What a ranged download can verify from an ETag, and the in-order MD5 of ranges written out of order.</summary>
public class ETagCheckSpecs : IDisposable
{
    private const long MiB = 1 << 20;
    private readonly DirectoryInfo work = Directory.CreateTempSubdirectory("etag-check-");

    public void Dispose() => work.Delete(recursive: true);

    [Fact]
    public async Task Ranges_written_out_of_order_from_many_threads_hash_to_the_file_s_MD5()
    {
        var data = new byte[(int)(37 * MiB + 17)];
        new Random(7).NextBytes(data);
        var path = Path.Combine(work.FullName, "f");
        using var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite);
        var ranges = Enumerable.Range(0, 5).Select(i => (Start: i * 8 * MiB, Length: Math.Min(8 * MiB, data.Length - i * 8 * MiB))).ToList();
        using var md5 = new OrderedMd5(file, ranges);

        // The last range first, the first range last, each in chunks of varying size.
        await Task.WhenAll(ranges.Select((range, i) => Task.Run(async () =>
        {
            await Task.Delay((ranges.Count - i) * 30);
            var random = new Random(i);
            for (long done = 0; done < range.Length;)
            {
                var chunk = (int)Math.Min(random.Next(1, 700_000), range.Length - done);
                var slice = data.AsMemory((int)(range.Start + done), chunk);
                await RandomAccess.WriteAsync(file, slice, range.Start + done);
                md5.Wrote(i, done, slice.Span);
                done += chunk;
            }
        })));

        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), Convert.ToHexStringLower(await md5.ResultAsync()));
    }

    [Theory]
    [InlineData(40 * MiB, 5, 8 * MiB)]    // aws cli, boto3: 8 MiB parts
    [InlineData(40 * MiB + 1, 3, 16 * MiB)] // ours (preferred), though 15 MiB (s3cmd) fits too
    [InlineData(100 * MiB, 20, 5 * MiB)]  // rclone: 5 MiB
    public void A_multipart_ETag_is_checked_in_ranges_of_the_likeliest_part_size(long size, int parts, long rangeSize)
    {
        var check = ETagCheck.For($"\"{new string('a', 32)}-{parts}\"", size, preferredPartSize: 16 * MiB, defaultRangeSize: 16 * MiB);

        Assert.True(check.NeedsRangeMd5s);
        Assert.Equal(rangeSize, check.RangeSize);
    }

    [Theory]
    [InlineData("\"0123456789abcdef0123456789abcdef-2\"", 30 * MiB)] // two parts: any size from 15 to 29 MiB fits
    [InlineData("\"kms-or-sse-c-etag\"", 30 * MiB)]
    [InlineData("\"0123456789abcdef0123456789abcdef-99999\"", 30 * MiB)]
    public void An_ETag_that_cannot_be_rebuilt_checks_the_size_only(string etag, long size)
    {
        var check = ETagCheck.For(etag, size, preferredPartSize: 16 * MiB, defaultRangeSize: 16 * MiB);

        Assert.False(check.NeedsRangeMd5s);
        Assert.False(check.NeedsWholeMd5);
    }

    [Fact]
    public void Parts_uploaded_at_another_fitting_size_are_found_by_reading_the_file_back()
    {
        // s3cmd's 15 MiB parts; the download cut its ranges at our 16 MiB.
        var data = new byte[(int)(40 * MiB + 1)];
        new Random(3).NextBytes(data);
        var path = Path.Combine(work.FullName, "g");
        File.WriteAllBytes(path, data);
        var etag = $"\"{Composite(data, 15 * MiB)}-3\"";
        var check = ETagCheck.For(etag, data.Length, preferredPartSize: 16 * MiB, defaultRangeSize: 16 * MiB);
        using var file = File.OpenHandle(path);

        check.VerifyParts(PartMd5s(data, 16 * MiB), file, data.Length);

        data[^1] ^= 1;
        File.WriteAllBytes(path, data);
        using var damaged = File.OpenHandle(path);
        var error = Assert.Throws<ObjectIntegrityException>(() => check.VerifyParts(PartMd5s(data, 16 * MiB), damaged, data.Length));
        Assert.StartsWith($"the body does not match ETag {etag.Trim('"')}: got ", error.Message);
    }

    private static byte[][] PartMd5s(byte[] data, long partSize) =>
        [.. Enumerable.Range(0, (int)((data.Length + partSize - 1) / partSize)).Select(i => MD5.HashData(data.AsSpan((int)(i * partSize), (int)Math.Min(partSize, data.Length - i * partSize))))];

    private static string Composite(byte[] data, long partSize) =>
        Convert.ToHexStringLower(MD5.HashData(PartMd5s(data, partSize).SelectMany(p => p).ToArray()));
}
