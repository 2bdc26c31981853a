using System.Diagnostics;
using System.Globalization;

namespace TrainLauncher.Storage;

/// <summary>
/// Counts a transfer and prints a plain line every <c>interval</c> and one at the end.
/// Plain lines only: container logs are not terminals, so no <c>\r</c> or escape codes.
/// </summary>
internal sealed class TransferProgress : IAsyncDisposable
{
    private readonly string label;
    private readonly int totalFiles;
    private readonly long totalBytes;
    private readonly Action<string> sink;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource stop = new();
    private readonly Task ticker;
    private int files;
    private long bytes;

    public TransferProgress(string label, int totalFiles, long totalBytes, Action<string> sink, TimeSpan interval)
    {
        this.label = label;
        this.totalFiles = totalFiles;
        this.totalBytes = totalBytes;
        this.sink = sink;
        ticker = TickAsync(interval);
    }

    public void AddBytes(long count) => Interlocked.Add(ref bytes, count);

    public void FileDone() => Interlocked.Increment(ref files);

    /// <summary>Stops the ticker, prints the closing line, returns the totals.</summary>
    public async Task<TransferStats> CompleteAsync()
    {
        await StopAsync();
        var stats = new TransferStats(Volatile.Read(ref files), Interlocked.Read(ref bytes), clock.Elapsed);
        sink(string.Create(CultureInfo.InvariantCulture,
            $"{label}: {stats.Files}/{totalFiles} files, {stats.Bytes / 1e6:F1} MB in {stats.Elapsed.TotalSeconds:F1} s, {stats.MegabytesPerSecond:F1} MB/s"));
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
            sink(string.Create(CultureInfo.InvariantCulture,
                $"{label}: {Volatile.Read(ref files)}/{totalFiles} files, {done / 1e6:F1}/{totalBytes / 1e6:F1} MB, {done / 1e6 / seconds:F1} MB/s"));
        }
    }
}
