namespace TrainLauncher.Storage;

/// <summary>What one fetch or upload moved.</summary>
internal sealed record TransferStats(int Files, long Bytes, TimeSpan Elapsed)
{
    public double MegabytesPerSecond => Elapsed.TotalSeconds > 0 ? Bytes / 1e6 / Elapsed.TotalSeconds : 0;
}
