using Microsoft.Extensions.Logging;

namespace TrainLauncher.Watchdog;

/// <summary>The hang watchdog (ids 1200–1299).</summary>
internal static partial class WatchdogEvents
{
    [LoggerMessage(1201, LogLevel.Warning, "the command has printed nothing for {Seconds:0.#} s (--no-output-timeout); it may be hung")]
    public static partial void NoOutput(this ILogger log, double seconds, int Pid);

    [LoggerMessage(1202, LogLevel.Warning, "the command has printed nothing for {Seconds:0.#} s (--no-output-timeout): it counts as hung and is stopped (--no-output-action stop, status 124)")]
    public static partial void HangStop(this ILogger log, double seconds, int Pid);
}
