using Microsoft.Extensions.Logging;

namespace TrainLauncher.Supervision;

/// <summary>The command's stop and end (ids 400–499).</summary>
internal static partial class SupervisionEvents
{
    [LoggerMessage(401, LogLevel.Information, "{Signal} passed to the command; SIGKILL in {Seconds:0.#} s to whatever of it is still running")]
    public static partial void GraceStarted(this ILogger log, string signal, double seconds, int Pid);

    [LoggerMessage(402, LogLevel.Information, "the command did not stop within {Seconds:0.#} s: SIGKILL to its process group and the processes it left")]
    public static partial void GraceExpired(this ILogger log, double seconds, int Pid);

    [LoggerMessage(403, LogLevel.Information, "command ended with {Exit} after {Seconds:0.00} s")]
    public static partial void CommandEnded(this ILogger log, string exit, double seconds, int Status, string? Signal, int Pid);

    [LoggerMessage(404, LogLevel.Information, "the command was stopped by {Signal}; the launcher stops too until SIGCONT")]
    public static partial void CommandStopped(this ILogger log, string signal, int Pid);

    [LoggerMessage(405, LogLevel.Warning, "the command's exit status is lost ({Reason}); reporting {Status}")]
    public static partial void StatusLost(this ILogger log, string reason, int status, int Pid);

    [LoggerMessage(406, LogLevel.Warning, "the stop timer failed: {Reason}")]
    public static partial void StopTimerFailed(this ILogger log, string reason);

    [LoggerMessage(407, LogLevel.Information, "{Worker} ended with {Exit} after {Seconds:0.00} s")]
    public static partial void WorkerEnded(this ILogger log, string worker, string exit, double seconds, int Status, int LocalRank, int Rank);

    [LoggerMessage(408, LogLevel.Warning, "{Worker} failed with {Exit}: the other workers are stopped (SIGTERM, SIGKILL after {Seconds:0.#} s); its status is the job's")]
    public static partial void WorkerFailed(this ILogger log, string worker, string exit, double seconds, int Status, int LocalRank, int Rank);
}
