using Serilog;
using TrainLauncher.Launch;
using TrainLauncher.Output;
using TrainLauncher.Secrets;

namespace TrainLauncher.Reporting;

/// <summary>SPEC 3.11 after the sinks are flushed: the termination message, then the run summary.</summary>
internal static class RunEnd
{
    /// <param name="endedIn">the phase the run was in when it ended (before "done").</param>
    /// <param name="reason">why it ended; null when the command ran and its own end is the reason.</param>
    public static void Report(LaunchOptions options, RunState state, ILogger log, int status, LaunchPhase endedIn, string? reason,
        SecretSet secrets, JobLog? jobLog)
    {
        if (state.CommandPid != 0) state.Report.PeakRssBytes = RunSummary.PeakChildRss();
        reason ??= state.Report.CommandEnd is { } end ? $"the command ended with {end}" : "the launcher finished";
        var (tail, whole) = jobLog?.ReadTail(TerminationMessage.TailBytesToRead(secrets)) ?? ([], true);
        string message = TerminationMessage.Compose(status, endedIn, reason, tail, whole, secrets);
        TerminationLog.Write(options.TerminationLog, message, warning => log.Warning("{Warning}", warning));
        RunSummary.Print(state, log, status);
    }
}
