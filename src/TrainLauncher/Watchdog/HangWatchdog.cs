using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TrainLauncher.Launch;
using TrainLauncher.Reporting;
using TrainLauncher.Supervision;

namespace TrainLauncher.Watchdog;

/// <summary>
/// `--no-output-timeout S`: while the command runs, S seconds without a byte of output is one
/// warning per silence (output, then a new silence, warns again). With `--no-output-action
/// stop` the job is stopped as a stop signal would stop it (SIGTERM to the group, the grace,
/// SIGKILL — <see cref="IStoppable.Stop"/>; every worker with --per-device) and the status is 124, as timeout(1)'s.
/// A hosted service beside the launch: it only reads the pump's last output time, so it costs
/// the command nothing (a check every quarter of S, at most once a second).
/// </summary>
internal sealed class HangWatchdog(LaunchOptions options, RunState state, ILogger log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Plan || options.NoOutputTimeoutSeconds <= 0) return;
        var timeout = TimeSpan.FromSeconds(options.NoOutputTimeoutSeconds);
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(timeout.TotalMilliseconds / 4, 20, 1000));
        using var timer = new PeriodicTimer(tick);
        long warnedAt = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (state.Running is not { } running) continue;
                long last = running.Output.LastOutputTimestamp;
                if (last == warnedAt || running.SinceLastOutput < timeout) continue;
                warnedAt = last;
                int pid = state.CommandPid;
                if (!options.StopOnNoOutput)
                {
                    log.NoOutput(timeout.TotalSeconds, pid);
                    continue;
                }
                // The summary's reason, recorded before the signal. The status (124) is decided by
                // Stop itself, atomically with the command's end: a command that ended on its own
                // first keeps its status, and the reason is withdrawn.
                state.StoppedAsHungAfter = timeout.TotalSeconds;
                if (running.Command.Stop(SignalHub.SIGTERM)) log.HangStop(timeout.TotalSeconds, pid);
                else state.StoppedAsHungAfter = null;
            }
        }
        catch (OperationCanceledException) { }
    }
}
