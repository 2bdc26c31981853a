using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace TrainLauncher.Storage;

/// <summary>
/// Counts a transfer and prints a plain line every <c>interval</c> and one at the end.
/// Plain lines only: container logs are not terminals, so no <c>\r</c> or escape codes.
/// The totals grow as the listing or the walk finds entries (both stream), so a line during
/// the transfer shows what is known so far.
/// </summary>
internal sealed class TransferProgress : IAsyncDisposable
{
    private readonly string operation;
    private readonly string url;
    private readonly ILogger log;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource stop = new();
    private readonly Task ticker;
    private int files;
    private long bytes;
    private int totalFiles;
    private long totalBytes;
    private int skipped;
    private int failed;

    /// <param name="operation">"fetch" or "upload", the first word of each line.</param>
    public TransferProgress(string operation, ObjectUrl url, ILogger log, TimeSpan interval)
    {
        this.operation = operation;
        this.url = url.ToString();
        this.log = log;
        ticker = TickAsync(interval);
    }

    /// <summary>Entries skipped so far (links, FIFOs, keys outside the prefix).</summary>
    public int SkippedSoFar => Volatile.Read(ref skipped);

    /// <summary>One more file to move (found by the listing or the walk).</summary>
    public void Planned(long size)
    {
        Interlocked.Increment(ref totalFiles);
        Interlocked.Add(ref totalBytes, size);
    }

    public void AddBytes(long count) => Interlocked.Add(ref bytes, count);

    public void FileDone() => Interlocked.Increment(ref files);

    public void Skipped() => Interlocked.Increment(ref skipped);

    public void Failed() => Interlocked.Increment(ref failed);

    /// <summary>Stops the ticker, prints the closing line, returns the totals.</summary>
    public async Task<TransferStats> CompleteAsync()
    {
        await StopAsync();
        var stats = new TransferStats(Volatile.Read(ref files), Interlocked.Read(ref bytes), clock.Elapsed, Volatile.Read(ref skipped), Volatile.Read(ref failed));
        log.TransferDone(operation, url, stats.Files, Volatile.Read(ref totalFiles), stats.Bytes / 1e6, stats.Elapsed.TotalSeconds, stats.MegabytesPerSecond,
            Problems(stats.Skipped, stats.Failed), stats.Bytes, stats.Skipped, stats.Failed);
        return stats;
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task StopAsync()
    {
        if (!stop.IsCancellationRequested)
            await stop.CancelAsync();
        try { await ticker; } catch (OperationCanceledException) { }
    }

    private async Task TickAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stop.Token))
        {
            var seconds = clock.Elapsed.TotalSeconds;
            var done = Interlocked.Read(ref bytes);
            var total = Interlocked.Read(ref totalBytes);
            var (skippedNow, failedNow) = (Volatile.Read(ref skipped), Volatile.Read(ref failed));
            log.TransferProgress(operation, url, Volatile.Read(ref files), Volatile.Read(ref totalFiles), done / 1e6, total / 1e6, done / 1e6 / seconds,
                Problems(skippedNow, failedNow), done, total, skippedNow, failedNow);
        }
    }

    /// <summary>", 2 skipped, 1 failed", each part only when it is not zero.</summary>
    public static string Problems(int skipped, int failed) =>
        (skipped > 0 ? $", {skipped} skipped" : "") + (failed > 0 ? $", {failed} failed" : "");
}
