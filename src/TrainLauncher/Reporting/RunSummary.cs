using System.Globalization;
using Microsoft.Extensions.Logging;
using TrainLauncher.Interop;
using TrainLauncher.Launch;

namespace TrainLauncher.Reporting;

/// <summary>
/// SPEC 3.11's run summary: one launcher message per row, aligned, e.g.
/// <code>
/// [trainlauncher] run summary:
/// [trainlauncher]   starting     0.004 s
/// [trainlauncher]   running      12.310 s
/// [trainlauncher]   fetched      -
/// [trainlauncher]   output       1.2 MiB
/// [trainlauncher]   peak RSS     312.0 MiB (largest child process)
/// [trainlauncher]   exit status  0
/// </code>
/// </summary>
internal static class RunSummary
{
    public static void Print(RunState state, ILogger log, int status)
    {
        var report = state.Report;
        log.SummaryStart();
        foreach (var (phase, duration) in state.PhaseDurations().Where(p => p.Phase != LaunchPhase.Done))
            log.SummaryPhase(RunState.Name(phase), string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.000} s"), duration.TotalSeconds);
        log.SummaryTransfer("fetched", Transfer(report.BytesFetched, report.FilesFetched), report.BytesFetched, report.FilesFetched);
        if (report.FilesData is not null) log.SummaryTransfer("data", Transfer(report.BytesData, report.FilesData), report.BytesData, report.FilesData);
        if (report.CheckpointFilesRestored is not null || report.CheckpointFilesSynced is not null)
            log.SummaryTransfer("checkpoints", $"restored {Transfer(report.CheckpointBytesRestored, report.CheckpointFilesRestored)}; synced {Transfer(report.CheckpointBytesSynced, report.CheckpointFilesSynced)}",
                report.CheckpointBytesSynced, report.CheckpointFilesSynced);
        log.SummaryTransfer("uploaded", Transfer(report.BytesUploaded, report.FilesUploaded) + Storage.TransferProgress.Problems(report.UploadsSkipped, report.UploadsFailed),
            report.BytesUploaded, report.FilesUploaded);
        log.SummaryOutput("output", report.OutputBytes is { } output ? Size(output) : "-", report.OutputBytes);
        log.SummaryPeakRss("peak RSS", report.PeakRssBytes is { } rss ? Size(rss) + " (largest child process)" : "-", report.PeakRssBytes);
        if (report.FailedWorker is { } worker)
            log.SummaryFailedWorker("failed", worker);
        if (report.RootCause is { } cause)
            log.SummaryRootCause("root cause", $"{cause.Summary} ({cause.Source})");
        log.SummaryExitStatus("exit status", report.CommandEnd is { } end && !end.EndsWith($" {status}", StringComparison.Ordinal)
            ? $"{status} ({end})" : status.ToString(CultureInfo.InvariantCulture), status);
    }

    /// <summary>
    /// The largest resident set among the reaped children: the command (or its biggest
    /// descendant). RUSAGE_CHILDREN needs no change to how the command is reaped and costs
    /// nothing while it runs; the launcher's own small tools count too but never dominate.
    /// </summary>
    public static unsafe long? PeakChildRss()
    {
        // struct rusage on 64-bit Linux: two timevals (4 longs), then ru_maxrss (KiB) and 13 more longs.
        var usage = stackalloc long[18];
        return Native.getrusage(Native.RUSAGE_CHILDREN, usage) == 0 && usage[4] > 0 ? usage[4] * 1024 : null;
    }

    private static string Transfer(long? bytes, int? files) => (bytes, files) switch
    {
        (null, null) => "-",
        _ => string.Join(", ", new[] { bytes is { } b ? Size(b) : null, files is { } f ? $"{f} files" : null }.OfType<string>()),
    };

    private static string Size(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1) { value /= 1024; unit++; }
        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }
}
