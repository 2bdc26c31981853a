using Microsoft.Extensions.Logging;

namespace TrainLauncher.Reporting;

/// <summary>The header at the start and the summary at the end of a run (ids 200–299). Summary
/// rows keep Item and Value (the aligned text) and carry the figure as a typed field too.</summary>
internal static partial class ReportingEvents
{
    [LoggerMessage(201, LogLevel.Information, "user: {User}")]
    public static partial void HeaderUser(this ILogger log, string user);

    [LoggerMessage(202, LogLevel.Information, "pwd: {JobDir}")]
    public static partial void HeaderJobDir(this ILogger log, string jobDir);

    [LoggerMessage(203, LogLevel.Information, "app_url: {AppUrl}")]
    public static partial void HeaderAppUrl(this ILogger log, string appUrl);

    [LoggerMessage(204, LogLevel.Information, "log_url: {LogFile}")]
    public static partial void HeaderLogFile(this ILogger log, string logFile);

    [LoggerMessage(205, LogLevel.Information, "command: {Command}")]
    public static partial void HeaderCommand(this ILogger log, string command);

    [LoggerMessage(206, LogLevel.Information, "accelerators: {Nvidia}; {Ascend}")]
    public static partial void HeaderAccelerators(this ILogger log, string nvidia, string ascend, int NvidiaCount, int AscendCount);

    [LoggerMessage(207, LogLevel.Information, "--gpus sets {Variable}={Value}")]
    public static partial void HeaderGpus(this ILogger log, string variable, string value);

    [LoggerMessage(210, LogLevel.Information, "run summary:")]
    public static partial void SummaryStart(this ILogger log);

    [LoggerMessage(211, LogLevel.Information, "  {Item,-12} {Value}")]
    public static partial void SummaryPhase(this ILogger log, string item, string value, double Seconds);

    [LoggerMessage(212, LogLevel.Information, "  {Item,-12} {Value}")]
    public static partial void SummaryTransfer(this ILogger log, string item, string value, long? Bytes, int? Files);

    [LoggerMessage(213, LogLevel.Information, "  {Item,-12} {Value}")]
    public static partial void SummaryOutput(this ILogger log, string item, string value, long? Bytes);

    [LoggerMessage(214, LogLevel.Information, "  {Item,-12} {Value}")]
    public static partial void SummaryPeakRss(this ILogger log, string item, string value, long? Bytes);

    [LoggerMessage(215, LogLevel.Information, "  {Item,-12} {Value}")]
    public static partial void SummaryExitStatus(this ILogger log, string item, string value, int Status);

    [LoggerMessage(216, LogLevel.Information, "  {Item,-12} {Value}")]
    public static partial void SummaryRootCause(this ILogger log, string item, string value);

    [LoggerMessage(217, LogLevel.Information, "  {Item,-12} {Value}")]
    public static partial void SummaryFailedWorker(this ILogger log, string item, string value);

    [LoggerMessage(220, LogLevel.Warning, "cannot write the termination message to {Path} (--termination-log): {Reason}")]
    public static partial void TerminationLogFailed(this ILogger log, string path, string reason);
}
