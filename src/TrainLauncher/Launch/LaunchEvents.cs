using Microsoft.Extensions.Logging;

namespace TrainLauncher.Launch;

/// <summary>
/// The launch's own events (ids 100–199): why it ended early, and its final status. Field names
/// across all events: ExitCode is only the launcher's final status (`exit status N`); Status is
/// the status of a process (the command, a tool) or of an early end.
/// </summary>
internal static partial class LaunchEvents
{
    [LoggerMessage(101, LogLevel.Error, "{Reason}")]
    public static partial void LaunchFailed(this ILogger log, string reason, int Status);

    [LoggerMessage(102, LogLevel.Warning, "stopped by {Signal} during {Phase}; the command was not started")]
    public static partial void StoppedBeforeCommand(this ILogger log, string signal, string phase, int Status);

    [LoggerMessage(103, LogLevel.Information, "exit status {ExitCode}")]
    public static partial void ExitStatus(this ILogger log, int exitCode);

    [LoggerMessage(104, LogLevel.Error, "internal error: {Error}")]
    public static partial void InternalError(this ILogger log, string error, int Status);

    [LoggerMessage(105, LogLevel.Warning, "{Step} failed ({Reason}); the exit status stays {Status}")]
    public static partial void StepFailedKeepingStatus(this ILogger log, string step, string reason, int Status);
}
