using Microsoft.Extensions.Logging;

namespace TrainLauncher.Tools;

/// <summary>Platform tools whose failure is only a warning (ids 1000–1099).</summary>
internal static partial class ToolEvents
{
    [LoggerMessage(1001, LogLevel.Warning, "DLS_USE_DNS_TCP is set but {Tool} was not found; DNS left as it is")]
    public static partial void DnsFixerMissing(this ILogger log, string tool);

    [LoggerMessage(1002, LogLevel.Warning, "dls-dns-fixer exited with status {Status}: {Output}")]
    public static partial void DnsFixerFailed(this ILogger log, int status, string output);
}
