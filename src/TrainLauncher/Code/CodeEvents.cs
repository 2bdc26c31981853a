using Microsoft.Extensions.Logging;

namespace TrainLauncher.Code;

/// <summary>The code fetch (ids 600–699).</summary>
internal static partial class CodeEvents
{
    [LoggerMessage(601, LogLevel.Information, "fetching {Url} into {Path}")]
    public static partial void FetchStarted(this ILogger log, string url, string path);

    [LoggerMessage(602, LogLevel.Error, "the code fetch failed; the command was not run")]
    public static partial void FetchFailed(this ILogger log, int Status);
}
