using Microsoft.Extensions.Logging;

namespace TrainLauncher.Storage;

/// <summary>Transfers of the built-in client (ids 700–799). The text shows MB; Bytes carries the exact count.</summary>
internal static partial class StorageEvents
{
    [LoggerMessage(701, LogLevel.Information, "{Operation} {Url}: {Files}/{TotalFiles} files, {Megabytes:F1}/{TotalMegabytes:F1} MB, {Rate:F1} MB/s")]
    public static partial void TransferProgress(this ILogger log, string operation, string url, int files, int totalFiles,
        double megabytes, double totalMegabytes, double rate, long Bytes, long TotalBytes);

    [LoggerMessage(702, LogLevel.Information, "{Operation} {Url}: {Files}/{TotalFiles} files, {Megabytes:F1} MB in {Seconds:F1} s, {Rate:F1} MB/s")]
    public static partial void TransferDone(this ILogger log, string operation, string url, int files, int totalFiles,
        double megabytes, double seconds, double rate, long Bytes);
}
