namespace TrainLauncher.Storage;

/// <summary>What one fetch or upload moved, and the entries it skipped or could not move.</summary>
internal sealed record TransferStats(int Files, long Bytes, TimeSpan Elapsed, int Skipped = 0, int Failed = 0)
{
    public double MegabytesPerSecond => Elapsed.TotalSeconds > 0 ? Bytes / 1e6 / Elapsed.TotalSeconds : 0;
}
