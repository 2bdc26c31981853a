using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using TrainLauncher.Output;

namespace TrainLauncher.Storage;

/// <summary>
/// What an object's ETag lets a ranged download verify, and how to cut the object so it can.
/// A single-part ETag is the MD5 of the body: the ranges are hashed in file order
/// (<see cref="OrderedMd5"/>). A multipart ETag ("…-N") is the MD5 of the N parts' MD5s; the
/// upload's part size is not stored, so every whole-MiB part size that gives N parts is a
/// candidate: the download cuts its ranges at the likeliest (ours, then the common tools'
/// defaults), so the ranges' own MD5s give the ETag, and tries the others by reading the file
/// back only if that one does not match. With more than <see cref="MaxCandidates"/> candidates
/// (an object of two or three parts) or an ETag of another form (SSE-KMS, SSE-C), only the size
/// is checked.
/// </summary>
internal sealed class ETagCheck
{
    public const int MaxCandidates = 8;
    private const long MiB = 1 << 20;

    /// <summary>Part sizes of common uploaders, likeliest first after our own: aws cli and boto3,
    /// rclone, Huawei's OBS SDKs, s3cmd, and powers of two.</summary>
    private static readonly long[] CommonPartSizes = [8 * MiB, 5 * MiB, 9 * MiB, 15 * MiB, 16 * MiB, 32 * MiB, 64 * MiB, 10 * MiB, 128 * MiB, 256 * MiB];

    private readonly string etag;
    private readonly byte[]? md5;
    private readonly int parts;
    private readonly long[] candidates;

    private ETagCheck(string etag, byte[]? md5, int parts, long rangeSize, long[] candidates)
    {
        this.etag = etag;
        this.md5 = md5;
        this.parts = parts;
        RangeSize = rangeSize;
        this.candidates = candidates;
    }

    /// <summary>The size of the ranges to download.</summary>
    public long RangeSize { get; }

    /// <summary>The whole body's MD5 is needed (single-part ETag, or a multipart one of one part).</summary>
    public bool NeedsWholeMd5 => md5 is not null && parts <= 1;

    /// <summary>Each range's MD5 is needed: the ranges are the upload's parts.</summary>
    public bool NeedsRangeMd5s => md5 is not null && parts > 1;

    public static ETagCheck For(string? etag, long size, long preferredPartSize, long defaultRangeSize)
    {
        var text = etag?.Trim('"') ?? "";
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        var hex = dash < 0 ? text : text[..dash];
        var md5 = hex.Length == 32 && hex.All(char.IsAsciiHexDigit) ? Convert.FromHexString(hex) : null;
        if (md5 is null)
            return new ETagCheck(text, null, 0, defaultRangeSize, []);
        if (dash < 0)
            return new ETagCheck(text, md5, 0, defaultRangeSize, []);
        if (!int.TryParse(text.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var parts) || parts is < 1 or > 10_000)
            return new ETagCheck(text, null, 0, defaultRangeSize, []);
        if (parts == 1)
            return new ETagCheck(text, md5, 1, defaultRangeSize, []);

        var fitting = PartSizesFor(size, parts);
        if (fitting.Count is 0 or > MaxCandidates)
            return new ETagCheck(text, null, 0, defaultRangeSize, []);
        var ordered = new[] { preferredPartSize }.Concat(CommonPartSizes).Where(fitting.Contains)
            .Concat(fitting).Distinct().ToArray();
        return new ETagCheck(text, md5, parts, ordered[0], ordered);
    }

    /// <summary>Checks the body's MD5 against a single-part ETag, or MD5(MD5) against a "-1" one.</summary>
    public void VerifyWhole(byte[] bodyMd5)
    {
        var got = parts == 1 ? MD5.HashData(bodyMd5) : bodyMd5;
        if (!got.AsSpan().SequenceEqual(md5))
            throw Mismatch(parts == 1 ? $"{Convert.ToHexStringLower(got)}-1" : Convert.ToHexStringLower(got));
    }

    /// <summary>
    /// Checks the ranges' MD5s (cut at <see cref="RangeSize"/>) against a multipart ETag; when
    /// they do not give it, reads <paramref name="file"/> back for the other candidate part sizes.
    /// </summary>
    public void VerifyParts(byte[][] rangeMd5s, SafeFileHandle file, long size)
    {
        if (rangeMd5s.Length == parts && Composite(rangeMd5s).AsSpan().SequenceEqual(md5))
            return;
        var others = candidates.Where(c => c != RangeSize).ToArray();
        if (others.Length > 0 && ReadBack(file, size, others).Any(composite => composite.AsSpan().SequenceEqual(md5)))
            return;
        throw Mismatch($"{Convert.ToHexStringLower(Composite(rangeMd5s))}-{rangeMd5s.Length} in parts of {RangeSize / MiB} MiB"
            + (others.Length > 0 ? $" (and {string.Join(", ", others.Select(o => o / MiB))} MiB)" : ""));
    }

    /// <summary>Whole-MiB part sizes that cut <paramref name="size"/> bytes into exactly <paramref name="parts"/> parts, at least 5 MiB (S3's smallest part).</summary>
    private static List<long> PartSizesFor(long size, int parts)
    {
        var fitting = new List<long>();
        var smallest = Math.Max(5, (size + parts * MiB - 1) / (parts * MiB));
        for (var mib = smallest; fitting.Count <= MaxCandidates && mib * MiB * (parts - 1) < size; mib++)
        {
            if ((size + mib * MiB - 1) / (mib * MiB) == parts)
                fitting.Add(mib * MiB);
        }
        return fitting;
    }

    private static byte[] Composite(byte[][] partMd5s) => MD5.HashData(partMd5s.SelectMany(p => p).ToArray());

    /// <summary>One sequential pass over the file, the composite MD5 for each part size.</summary>
    private static IEnumerable<byte[]> ReadBack(SafeFileHandle file, long size, long[] partSizes)
    {
        var hashers = partSizes.Select(_ => IncrementalHash.CreateHash(HashAlgorithmName.MD5)).ToArray();
        var parts = partSizes.Select(_ => new List<byte[]>()).ToArray();
        var buffer = new byte[MiB];
        try
        {
            for (long offset = 0; offset < size;)
            {
                // Whole MiB blocks, so every candidate's part boundary falls between two blocks.
                int read = OrderedMd5.ReadFully(file, buffer.AsSpan(0, (int)Math.Min(MiB, size - offset)), offset);
                offset += read;
                for (int c = 0; c < partSizes.Length; c++)
                {
                    hashers[c].AppendData(buffer, 0, read);
                    if (offset % partSizes[c] == 0 || offset == size) parts[c].Add(hashers[c].GetHashAndReset());
                }
            }
        }
        finally
        {
            foreach (var hasher in hashers) hasher.Dispose();
        }
        return parts.Select(p => Composite([.. p]));
    }

    private ObjectIntegrityException Mismatch(string got) =>
        new($"the body does not match ETag {OneLine.Escape(etag)}: got {got}", transient: true);
}
