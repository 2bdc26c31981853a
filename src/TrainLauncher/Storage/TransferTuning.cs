namespace TrainLauncher.Storage;

/// <summary>
/// Retry, timeout and part-size knobs. Production uses <see cref="Default"/>; tests pass tiny
/// delays and timeouts through <see cref="ObjectStore"/>'s internal constructor.
/// </summary>
internal sealed record TransferTuning(
    int MaxRetries,
    TimeSpan BaseDelay,
    TimeSpan MaxDelay,
    TimeSpan IdleTimeout,
    TimeSpan ProgressInterval,
    long PartSize,
    int ListPageSize = 1000,
    long RangeSize = 16 * 1024 * 1024,
    int RangesInFlight = 4)
{
    /// <summary>6 retries with exponential back-off from 0.5 s (jittered, at most 20 s apart): about a minute of patience.</summary>
    public static TransferTuning Default { get; } = new(
        MaxRetries: 6,
        BaseDelay: TimeSpan.FromMilliseconds(500),
        MaxDelay: TimeSpan.FromSeconds(20),
        IdleTimeout: TimeSpan.FromSeconds(60),
        ProgressInterval: TimeSpan.FromSeconds(5),
        PartSize: 16 * 1024 * 1024);

    /// <summary>S3's largest part (and single PUT): the longest body one request sends.</summary>
    public long MaxPartBytes => 5L << 30;

    /// <summary>Time allowed for one upload request: the idle timeout plus 1 MB/s for the body.</summary>
    public TimeSpan UploadTimeout(long bytes) => IdleTimeout + TimeSpan.FromSeconds(bytes / 1e6);

    /// <summary>Time allowed to complete a multipart upload: stores assemble the parts first (S3: "several minutes" for large objects).</summary>
    public TimeSpan CompleteTimeout(int parts) => IdleTimeout + TimeSpan.FromMilliseconds(50.0 * parts);
}
