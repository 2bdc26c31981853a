using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TrainLauncher.Launch;
using TrainLauncher.Output;
using TrainLauncher.Secrets;

namespace TrainLauncher.Reporting;

/// <summary>
/// Step 11, after the sinks are flushed: the final status line, the termination message, the run
/// summary, and the outcome recorded for Program. The status is the one handed in: nothing here
/// can change it.
/// </summary>
internal sealed class RunEnd(LaunchOptions options, RunState state, ILogger log, LaunchOutcome outcome)
{
    /// <param name="reason">why the run ended; null when the command ran and its own end is the reason.</param>
    public void Finish(int status, string? reason, SecretSet secrets, JobLog? jobLog)
    {
        var endedIn = state.Phase;
        state.Phase = LaunchPhase.Done;
        state.ExitCode = status;
        if (state.CommandPid != 0) state.Report.PeakRssBytes = RunSummary.PeakChildRss();
        reason ??= state.StoppedAsHungAfter is { } silence
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"the command hung: no output for {silence:0.###} s (--no-output-timeout), stopped by --no-output-action stop; it ended with {state.Report.CommandEnd}")
            : state.Report.FailedWorker is { } worker ? worker
            : state.Report.CommandEnd is { } end ? $"the command ended with {end}" : "the launcher finished";
        // Recorded first, and nothing below may throw: a message that cannot be written is a
        // warning, never a 125 in place of the run's status, and never skips the other message.
        outcome.Record(status, endedIn, reason);
        log.ExitStatus(status);
        Keeping("the termination message", status, secrets, () =>
        {
            var (tail, whole) = jobLog?.ReadTail(TerminationMessage.TailBytesToRead(secrets)) ?? ([], true);
            TerminationLog.Write(options.TerminationLog, TerminationMessage.Compose(status, endedIn, reason, tail, whole, secrets, state.Report.RootCause), log);
        });
        Keeping("the run summary", status, secrets, () => RunSummary.Print(state, log, status));
    }

    private void Keeping(string step, int status, SecretSet secrets, Action write)
    {
        try
        {
            write();
        }
        catch (Exception e)
        {
            log.StepFailedKeepingStatus(step, OneLine.Escape(secrets.Mask($"{e.GetType().Name}: {e.Message}")), status);
        }
    }

    /// <summary>`plan` printed what a run would do: nothing ran, status 0.</summary>
    public void PlanPrinted() => outcome.Record(0, state.Phase, "plan printed");

    /// <summary>A bug, not a job's failure: one line with the exception, a termination message
    /// with only its type (its text could hold a value the secret mask never saw), and 125.</summary>
    public static int InternalError(ILogger log, string? terminationLog, Exception e)
    {
        log.InternalError(e.ToString().ReplaceLineEndings(" | "), ExitCodes.LauncherFailure);
        TerminationLog.Write(terminationLog, $"exit status {ExitCodes.LauncherFailure}: internal error ({e.GetType().Name}); see the launcher's output\n", NullLogger.Instance);
        return ExitCodes.LauncherFailure;
    }
}
