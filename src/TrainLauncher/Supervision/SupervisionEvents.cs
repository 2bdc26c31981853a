using Microsoft.Extensions.Logging;

namespace TrainLauncher.Supervision;

/// <summary>The command's stop and end (ids 400–499).</summary>
internal static partial class SupervisionEvents
{
    [LoggerMessage(401, LogLevel.Information, "{Signal} passed to the command; SIGKILL in {Seconds:0.#} s if it is still running")]
    public static partial void GraceStarted(this ILogger log, string signal, double seconds, int Pid);

    [LoggerMessage(402, LogLevel.Information, "the command did not stop within {Seconds:0.#} s: sending SIGKILL to its process group")]
    public static partial void GraceExpired(this ILogger log, double seconds, int Pid);

    [LoggerMessage(403, LogLevel.Information, "command ended with {Exit} after {Seconds:0.00} s")]
    public static partial void CommandEnded(this ILogger log, string exit, double seconds, int Status, string? Signal, int Pid);
}
