using Microsoft.Extensions.Logging;

namespace TrainLauncher.Upload;

/// <summary>What leaves the job after the command (ids 800–899).</summary>
internal static partial class UploadEvents
{
    [LoggerMessage(801, LogLevel.Warning, "the output upload failed: {Reason}")]
    public static partial void OutputUploadFailed(this ILogger log, string reason);

    [LoggerMessage(802, LogLevel.Information, "uploading {LogFile} to {Url} with dls-downloader")]
    public static partial void LogUploadWithTool(this ILogger log, string logFile, string url);

    [LoggerMessage(803, LogLevel.Information, "uploading {LogFile} to {Url}")]
    public static partial void LogUpload(this ILogger log, string logFile, string url);

    [LoggerMessage(804, LogLevel.Warning, "the log upload failed; the reason is in the log")]
    public static partial void LogUploadFailed(this ILogger log);

    [LoggerMessage(805, LogLevel.Warning, "the log upload failed ({Reason}), and that could not be added to the log: {AppendError}")]
    public static partial void LogUploadFailedUnlogged(this ILogger log, string reason, string appendError);
}
