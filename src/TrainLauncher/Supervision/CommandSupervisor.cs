using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using TrainLauncher.Interop;
using TrainLauncher.Launch;

namespace TrainLauncher.Supervision;

/// <summary>
/// Runs one command from start to end (SPEC 8, 13). It is started and waited for on a thread of
/// its own that lives exactly as long as it (PR_SET_PDEATHSIG fires when the thread that started
/// a child ends, even if the process lives on). Every signal the launcher gets goes to the
/// command's process group; a stop signal also starts the end of the job (<see cref="JobEnd"/>):
/// the grace holds for the group and every adopted process, and the SIGKILL when it is over
/// comes from a timer thread of its own, which no log line or console lock can delay. Nothing
/// here runs on the signal thread but system calls: events go out from the thread pool.
/// </summary>
/// <remarks>A <c>--per-device</c> worker's supervisor is one of a <see cref="WorkerGroup"/>: it
/// shares the job's <see cref="AdoptedProcesses"/>, leaves the signal hub to the group (which
/// calls <see cref="ForwardToGroup"/> for every worker) and never takes the terminal (one group
/// can own it, and none of the workers is the job).</remarks>
internal sealed class CommandSupervisor(SignalHub signals, TimeSpan stopGrace, ILogger log, AdoptedProcesses? sharedAdopted = null) : IStoppable
{
    private readonly TaskCompletionSource<ChildExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly bool _isWorker = sharedAdopted is not null;
    private readonly AdoptedProcesses _adopted = sharedAdopted ?? new();
    private readonly TerminalHandOver? _terminal = sharedAdopted is null ? TerminalHandOver.Detect() : null;
    private readonly Lock _lock = new();
    private JobEnd? _end;
    private int _pgid;
    private readonly LauncherStop _launcherStop = new();

    /// <summary>Starts the command; completes once it runs (or with the <see cref="SpawnException"/> why not).</summary>
    public Task<SpawnedCommand> StartAsync(string path, IReadOnlyList<string> argv, IReadOnlyList<KeyValuePair<string, string>> environment)
    {
        var started = new TaskCompletionSource<SpawnedCommand>(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() => Run(path, argv, environment, started)) { IsBackground = true, Name = "command" }.Start();
        return started.Task;
    }

    /// <summary>How the command ended; never faults.</summary>
    public Task<ChildExit> WaitAsync() => _exited.Task;

    /// <summary>When waitpid returned its status (a <see cref="System.Diagnostics.Stopwatch"/>
    /// timestamp): which of several workers failed first.</summary>
    public long EndedAt { get; private set; }

    /// <summary>After the command's end: ends the rest of the job (the grace of a stop signal
    /// still holds), then stops forwarding and gives the terminal back.</summary>
    public void EndLeftovers()
    {
        JobEnd end;
        lock (_lock) end = _end ??= JobEnd.AfterExit(_pgid, _adopted, stopGrace);
        end.Finish();
        if (!_isWorker) signals.ForwardTo(null);
        _terminal?.GiveBack(_pgid);
    }

    /// <summary>A stop the launcher decides (the hang watchdog): the same sequence as a stop
    /// signal — <paramref name="signal"/> to the group, the grace from now, then SIGKILL. False
    /// when the command has ended or its stop had begun.</summary>
    public bool Stop(int signal)
    {
        if (_pgid == 0 || !_launcherStop.TryClaim(() => Volatile.Read(ref _end) is null && !_exited.Task.IsCompleted)) return false;
        // False only when a stop signal began the end in between: the group has had one.
        BeginStop(signal, System.Diagnostics.Stopwatch.GetTimestamp());
        return true;
    }

    public bool StoppedByLauncher => _launcherStop.TakeStatus();

    /// <summary>A worker's stop (<see cref="WorkerGroup"/>): as <see cref="Stop"/>, and also after the
    /// worker itself exited while its group still has processes (what it started and left
    /// running is part of the job). False when the group is empty or its stop had begun.</summary>
    public bool StopGroup(int signal)
    {
        if (_pgid == 0) return false;
        lock (_lock) if (_end is not null) return false;
        if (Native.kill(-_pgid, 0) != 0) return false;
        return BeginStop(signal, System.Diagnostics.Stopwatch.GetTimestamp());
    }

    /// <summary>kill(-pgid): the command and every process still in its group. ESRCH (all gone) is expected.</summary>
    public static void SignalGroup(int pgid, int signal)
    {
        if (Native.kill(-pgid, signal) != 0 && Marshal.GetLastPInvokeError() != Native.ESRCH)
            Native.kill(pgid, signal);
    }

    private void Run(string path, IReadOnlyList<string> argv, IReadOnlyList<KeyValuePair<string, string>> environment, TaskCompletionSource<SpawnedCommand> started)
    {
        SpawnedCommand command;
        try
        {
            command = CommandSpawner.Spawn(path, argv, environment,
                new ChildSetup(DieWithLauncher: true, TakeTerminal: _terminal is not null, RestoreCoreLimit: true));
        }
        catch (Exception e)
        {
            started.SetException(e);
            return;
        }
        ChildExit exit;
        try
        {
            _pgid = command.Pid;
            _adopted.AddGroup(_pgid);
            // A stop signal that came while the command was being started is not lost.
            if (!_isWorker && signals.ForwardTo(Forward) is var missed and not 0) Forward(missed);
            started.SetResult(command);
            exit = Wait(command.Pid);
        }
        catch (Exception e)
        {
            started.TrySetResult(command); // else a failure before SetResult would leave the launch waiting forever
            exit = Lost($"{e.GetType().Name}: {e.Message}");
        }
        EndedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        ChildRegistry.Release(command.Pid);
        _exited.SetResult(exit);
    }

    /// <summary>On the signal thread: system calls only, the group's signal first.</summary>
    private void Forward(int signal)
    {
        if (ForwardToGroup(signal)) _adopted.SignalAll(signal);
    }

    /// <summary>On the signal thread: <paramref name="signal"/> to the command's group; the first
    /// stop signal begins its stop (and tells the adopted processes). True for a later stop
    /// signal, which the adopted processes are still to get (once for the job: the caller's part).</summary>
    public bool ForwardToGroup(int signal)
    {
        if (_pgid == 0) return false;
        // Before the command resumes, so that it finds the terminal its own again.
        if (signal == SignalHub.SIGCONT) _terminal?.GiveTo(_pgid);
        // The first stop signal is sent by the end it begins, so that the end exists before the
        // command can die of it: an end decided after (the command's exit racing this thread on
        // a loaded machine) would be the one for a command that ended on its own — a second
        // SIGTERM 100 ms later and SIGKILL at 2 s, the checkpoint lost.
        if (SignalHub.IsStopSignal(signal) && BeginStop(signal, signals.StopTimestamp)) return false;
        SignalGroup(_pgid, signal);
        return SignalHub.IsStopSignal(signal);
    }

    /// <summary>The first stop signal: to the group, then to the adopted processes, SIGKILL to
    /// what is left when the grace (counted from <paramref name="sentAt"/>) is over. False if the end had begun.</summary>
    private bool BeginStop(int signal, long sentAt)
    {
        JobEnd end;
        lock (_lock)
        {
            if (_end is not null) return false;
            _end = end = JobEnd.ForStopSignal(_pgid, _adopted, signal, sentAt, stopGrace);
        }
        end.TellNow();
        new Thread(() => KillAfterGrace(end)) { IsBackground = true, Name = "stop-timer" }.Start();
        int pgid = _pgid;
        Later(() => log.GraceStarted(SignalNames.Name(signal), stopGrace.TotalSeconds, pgid));
        return true;
    }

    private void KillAfterGrace(JobEnd end)
    {
        try
        {
            if (!end.WaitForDeadline()) return;
            end.Kill();
            log.GraceExpired(stopGrace.TotalSeconds, _pgid);
        }
        catch (Exception e)
        {
            Later(() => log.StopTimerFailed($"{e.GetType().Name}: {e.Message}"));
        }
    }

    private unsafe ChildExit Wait(int pid)
    {
        // With the terminal handed over, a stop at the terminal (Ctrl-Z) stops the command only:
        // the launcher stops too, so the shell that started it sees its job stopped; `fg` then
        // continues the launcher, whose SIGCONT goes on to the command.
        int options = _terminal is null ? 0 : Native.WUNTRACED;
        while (true)
        {
            int status;
            if (Native.waitpid(pid, &status, options) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Native.EINTR) continue;
                return Lost($"waitpid: {Marshal.GetPInvokeErrorMessage(errno)}");
            }
            if (!Native.Stopped(status)) return ChildExit.FromWaitStatus(status);
            string signal = SignalNames.Name(Native.StopSignal(status));
            Later(() => log.CommandStopped(signal, pid));
            Native.kill(Native.getpid(), Native.SIGSTOP);
        }
    }

    private ChildExit Lost(string why)
    {
        int pgid = _pgid;
        Later(() => log.StatusLost(why, ExitCodes.LauncherFailure, pgid));
        return new ChildExit(ExitCodes.LauncherFailure, null);
    }

    private static void Later(Action write) => ThreadPool.UnsafeQueueUserWorkItem(static write => write(), write, preferLocal: false);
}
