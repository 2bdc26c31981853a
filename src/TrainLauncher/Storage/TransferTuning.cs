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
    int ListPageSize = 1000)
{
    /// <summary>6 retries with exponential back-off from 0.5 s (jittered, at most 20 s apart): about a minute of patience.</summary>
    public static TransferTuning Default { get; } = new(
        MaxRetries: 6,
        BaseDelay: TimeSpan.FromMilliseconds(500),
        MaxDelay: TimeSpan.FromSeconds(20),
        IdleTimeout: TimeSpan.FromSeconds(60),
        ProgressInterval: TimeSpan.FromSeconds(5),
        PartSize: 16 * 1024 * 1024);

    /// <summary>Time allowed for one upload request: the idle timeout plus 1 MB/s for the body.</summary>
    public TimeSpan UploadTimeout(long bytes) => IdleTimeout + TimeSpan.FromSeconds(bytes / 1e6);
}
