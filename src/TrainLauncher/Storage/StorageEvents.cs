using Microsoft.Extensions.Logging;

namespace TrainLauncher.Storage;

/// <summary>
/// Transfers of the built-in client (ids 700–799). The text shows MB; Bytes carries the exact
/// count. Paths, keys and reasons come escaped (<see cref="Output.OneLine"/>): they are outside text.
/// </summary>
internal static partial class StorageEvents
{
    /// <param name="problems">", 2 skipped, 1 failed", or empty: the text shows only what is not zero; the fields always.</param>
    [LoggerMessage(701, LogLevel.Information, "{Operation} {Url}: {Files}/{TotalFiles} files, {Megabytes:F1}/{TotalMegabytes:F1} MB, {Rate:F1} MB/s{Problems}")]
    public static partial void TransferProgress(this ILogger log, string operation, string url, int files, int totalFiles,
        double megabytes, double totalMegabytes, double rate, string problems, long Bytes, long TotalBytes, int Skipped, int Failed);

    [LoggerMessage(702, LogLevel.Information, "{Operation} {Url}: {Files}/{TotalFiles} files, {Megabytes:F1} MB in {Seconds:F1} s, {Rate:F1} MB/s{Problems}")]
    public static partial void TransferDone(this ILogger log, string operation, string url, int files, int totalFiles,
        double megabytes, double seconds, double rate, string problems, long Bytes, int Skipped, int Failed);

    [LoggerMessage(703, LogLevel.Warning, "skipped object key '{Key}': the store listed it under {Url} but it is outside that prefix")]
    public static partial void KeyOutsidePrefix(this ILogger log, string key, string url);

    [LoggerMessage(704, LogLevel.Warning, "skipped {Path}: {Reason}")]
    public static partial void EntrySkipped(this ILogger log, string path, string reason);

    [LoggerMessage(705, LogLevel.Warning, "cannot read the directory {Path}: {Reason}")]
    public static partial void DirectoryUnreadable(this ILogger log, string path, string reason);

    [LoggerMessage(706, LogLevel.Warning, "cannot upload {Path}: {Reason}")]
    public static partial void FileNotUploaded(this ILogger log, string path, string reason);
}
