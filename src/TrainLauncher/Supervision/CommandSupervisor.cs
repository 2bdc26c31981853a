using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using TrainLauncher.Interop;

namespace TrainLauncher.Supervision;

/// <summary>
/// Runs one started command to its end: forwards each signal to its whole process group, and
/// after a stop signal waits at most the grace period before SIGKILL to the group (torchrun's
/// agent and tini do the same). The wait itself is a blocking waitpid on a thread of its own.
/// </summary>
internal sealed class CommandSupervisor(SignalHub signals, TimeSpan stopGrace, ILogger log)
{
    public async Task<ChildExit> WaitAsync(SpawnedCommand command)
    {
        var exited = new TaskCompletionSource<ChildExit>(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiter = new Thread(() => exited.SetResult(WaitPid(command.Pid))) { IsBackground = true, Name = "command-wait" };
        waiter.Start();

        var graceStarted = 0;
        signals.ForwardTo(signal =>
        {
            SignalGroup(command.Pid, signal);
            if (SignalHub.IsStopSignal(signal) && Interlocked.Exchange(ref graceStarted, 1) == 0)
                _ = KillAfterGraceAsync(command.Pid, exited.Task, signal);
        });
        // A stop signal that came while the command was being started is not lost.
        if (signals.StopSignal != 0 && Interlocked.Exchange(ref graceStarted, 1) == 0)
        {
            SignalGroup(command.Pid, signals.StopSignal);
            _ = KillAfterGraceAsync(command.Pid, exited.Task, signals.StopSignal);
        }

        var exit = await exited.Task;
        signals.ForwardTo(null);
        ChildRegistry.Release(command.Pid);
        return exit;
    }

    private async Task KillAfterGraceAsync(int pid, Task exited, int signal)
    {
        log.GraceStarted(SignalNames.Name(signal), stopGrace.TotalSeconds, pid);
        if (await Task.WhenAny(exited, Task.Delay(stopGrace)) == exited) return;
        log.GraceExpired(stopGrace.TotalSeconds, pid);
        SignalGroup(pid, Native.SIGKILL);
    }

    /// <summary>kill(-pgid): the command and every process still in its group. ESRCH (all gone) is expected.</summary>
    public static void SignalGroup(int pgid, int signal)
    {
        if (Native.kill(-pgid, signal) != 0 && Marshal.GetLastPInvokeError() != Native.ESRCH)
            Native.kill(pgid, signal);
    }

    private static unsafe ChildExit WaitPid(int pid)
    {
        int status;
        while (Native.waitpid(pid, &status, 0) < 0)
        {
            if (Marshal.GetLastPInvokeError() != Native.EINTR)
                throw new InvalidOperationException($"waitpid({pid}) failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
        return ChildExit.FromWaitStatus(status);
    }
}
