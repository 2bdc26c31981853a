using Microsoft.Extensions.Logging;

namespace TrainLauncher.Health;

/// <summary>The health endpoint, which may fail without failing the job (ids 1100–1199).</summary>
internal static partial class HealthEvents
{
    [LoggerMessage(1101, LogLevel.Debug, "health endpoint on {Bind}:{Port}")]
    public static partial void HealthListening(this ILogger log, string bind, int port);

    [LoggerMessage(1102, LogLevel.Warning, "no health endpoint on {Bind}:{Port}: {Reason}; the job runs on without it")]
    public static partial void HealthUnavailable(this ILogger log, string bind, int port, string reason);

    [LoggerMessage(1103, LogLevel.Warning, "the health endpoint stopped: {Reason}")]
    public static partial void HealthStopped(this ILogger log, string reason);

    [LoggerMessage(1104, LogLevel.Warning, "the health endpoint cannot accept connections: {Reason}; it retries")]
    public static partial void HealthAcceptFailing(this ILogger log, string reason);

    [LoggerMessage(1105, LogLevel.Information, "the health endpoint accepts connections again")]
    public static partial void HealthAcceptRecovered(this ILogger log);
}
