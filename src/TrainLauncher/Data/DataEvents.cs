using Microsoft.Extensions.Logging;

namespace TrainLauncher.Data;

/// <summary>The job's data before and around the command: requirements, input data, checkpoints (ids 1300–1399).</summary>
internal static partial class DataEvents
{
    [LoggerMessage(1301, LogLevel.Information, "installing {File} with pip (--requirements)")]
    public static partial void RequirementsInstalling(this ILogger log, string file);

    [LoggerMessage(1302, LogLevel.Information, "python3 is externally managed (PEP 668): pip runs with PIP_BREAK_SYSTEM_PACKAGES=1 (set PIP_BREAK_SYSTEM_PACKAGES=0 to refuse)")]
    public static partial void ExternallyManaged(this ILogger log);

    [LoggerMessage(1304, LogLevel.Information, "fetching data {Url} into {Path} (--data-dir)")]
    public static partial void DataFetchStarted(this ILogger log, string url, string path);

    [LoggerMessage(1310, LogLevel.Information, "checkpoints: nothing under {Url} to restore; the job starts fresh")]
    public static partial void CheckpointNothingToRestore(this ILogger log, string url);

    [LoggerMessage(1311, LogLevel.Warning, "checkpoint sync failed: {Reason}; the next sync tries again")]
    public static partial void CheckpointSyncFailed(this ILogger log, string reason);

    [LoggerMessage(1312, LogLevel.Warning, "cannot remove {Path}: {Reason}")]
    public static partial void CheckpointStagingNotRemoved(this ILogger log, string path, string reason);

    [LoggerMessage(1303, LogLevel.Information, "requirements installed from {File} in {Seconds:0.0} s")]
    public static partial void RequirementsInstalled(this ILogger log, string file, double seconds);
}
