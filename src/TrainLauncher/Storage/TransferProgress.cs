using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace TrainLauncher.Storage;

/// <summary>
/// Counts a transfer and prints a plain line every <c>interval</c> and one at the end.
/// Plain lines only: container logs are not terminals, so no <c>\r</c> or escape codes.
/// </summary>
internal sealed class TransferProgress : IAsyncDisposable
{
    private readonly string operation;
    private readonly string url;
    private readonly int totalFiles;
    private readonly long totalBytes;
    private readonly ILogger log;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource stop = new();
    private readonly Task ticker;
    private int files;
    private long bytes;

    /// <param name="operation">"fetch" or "upload", the first word of each line.</param>
    public TransferProgress(string operation, ObjectUrl url, int totalFiles, long totalBytes, ILogger log, TimeSpan interval)
    {
        this.operation = operation;
        this.url = url.ToString();
        this.totalFiles = totalFiles;
        this.totalBytes = totalBytes;
        this.log = log;
        ticker = TickAsync(interval);
    }

    public void AddBytes(long count) => Interlocked.Add(ref bytes, count);

    public void FileDone() => Interlocked.Increment(ref files);

    /// <summary>Stops the ticker, prints the closing line, returns the totals.</summary>
    public async Task<TransferStats> CompleteAsync()
    {
        await StopAsync();
        var stats = new TransferStats(Volatile.Read(ref files), Interlocked.Read(ref bytes), clock.Elapsed);
        log.TransferDone(operation, url, stats.Files, totalFiles, stats.Bytes / 1e6, stats.Elapsed.TotalSeconds, stats.MegabytesPerSecond, stats.Bytes);
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
            log.TransferProgress(operation, url, Volatile.Read(ref files), totalFiles, done / 1e6, totalBytes / 1e6, done / 1e6 / seconds, done, totalBytes);
        }
    }
}
