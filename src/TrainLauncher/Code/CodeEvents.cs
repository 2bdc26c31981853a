using Microsoft.Extensions.Logging;

namespace TrainLauncher.Code;

/// <summary>The code fetch (ids 600–699).</summary>
internal static partial class CodeEvents
{
    [LoggerMessage(601, LogLevel.Information, "fetching {Url} into {Path}")]
    public static partial void FetchStarted(this ILogger log, string url, string path);

    [LoggerMessage(602, LogLevel.Error, "the code fetch failed; the command was not run")]
    public static partial void FetchFailed(this ILogger log, int Status);

    [LoggerMessage(603, LogLevel.Warning, "skipped {Path}: {Reason}")]
    public static partial void CodeEntrySkipped(this ILogger log, string path, string reason);

    [LoggerMessage(604, LogLevel.Warning, "cannot remove {Path}: {Reason}")]
    public static partial void StagingNotRemoved(this ILogger log, string path, string reason);
}
