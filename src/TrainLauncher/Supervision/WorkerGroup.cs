using System.Diagnostics;
using Microsoft.Extensions.Logging;
using TrainLauncher.Cluster;

namespace TrainLauncher.Supervision;

/// <summary>
/// The <c>--per-device</c> workers as one job, torchrun's agent without the rendezvous: one
/// <see cref="CommandSupervisor"/> per worker, each in a process group of its own. Every signal
/// the launcher gets goes to every worker (a stop signal: one grace for the job, counted from
/// the signal); the first worker that fails (a non-zero status) stops the others (SIGTERM, the
/// grace, SIGKILL), and its status is the job's; the hang watchdog's stop ends them all. A
/// worker that has exited but left processes in its group is stopped with the others.
/// </summary>
internal sealed class WorkerGroup(SignalHub signals, TimeSpan stopGrace, ILogger log) : IStoppable
{
    private readonly AdoptedProcesses _adopted = new();
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private CommandSupervisor[] _supervisors = [];
    private IReadOnlyList<WorkerSpec> _workers = [];
    private readonly LauncherStop _launcherStop = new();
    private volatile bool _stopping;

    /// <summary>Starts every worker (in local-rank order), then forwards signals to all of them;
    /// completes once all run. When one cannot start, those started are stopped and ended, and
    /// the <see cref="SpawnException"/> is thrown.</summary>
    public async Task<IReadOnlyList<SpawnedCommand>> StartAsync(
        string path, IReadOnlyList<string> argv, IReadOnlyList<WorkerSpec> workers, IReadOnlyList<KeyValuePair<string, string>[]> environments)
    {
        var supervisors = new List<CommandSupervisor>();
        var commands = new List<SpawnedCommand>();
        try
        {
            for (int i = 0; i < workers.Count; i++)
            {
                var supervisor = new CommandSupervisor(signals, stopGrace, log, _adopted);
                commands.Add(await supervisor.StartAsync(path, argv, environments[i]));
                supervisors.Add(supervisor);
            }
        }
        catch (Exception) // any failure, not only SpawnException: the workers started must not outlive it unstopped
        {
            foreach (var supervisor in supervisors) supervisor.Stop(SignalHub.SIGTERM);
            await Task.WhenAll(supervisors.Select(s => s.WaitAsync()));
            foreach (var supervisor in supervisors) supervisor.EndLeftovers();
            foreach (var command in commands) Interop.Native.close(command.OutputFd);
            throw;
        }
        (_supervisors, _workers) = ([.. supervisors], workers);
        // A stop signal that came while the workers were being started is not lost.
        if (signals.ForwardTo(Forward) is var missed and not 0) Forward(missed);
        return commands;
    }

    /// <summary>Waits for every worker; returns the one whose status is the job's — the first to
    /// fail (by when it ended), or, when none failed, the last to end — and how it ended. Never faults.</summary>
    public async Task<(WorkerSpec Worker, ChildExit Exit)> WaitAsync()
    {
        var exits = new ChildExit?[_supervisors.Length];
        var pending = _supervisors.Select((s, i) => s.WaitAsync().ContinueWith(t => (Index: i, Exit: t.Result), TaskScheduler.Default)).ToList();
        int last = 0;
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending);
            pending.Remove(done);
            var (i, exit) = done.Result;
            (exits[i], last) = (exit, i);
            var worker = _workers[i];
            log.WorkerEnded(worker.Name, exit.ToString(), Stopwatch.GetElapsedTime(_startedAt).TotalSeconds, exit.ExitStatus, worker.LocalRank, worker.Rank);
            if (exit.ExitStatus == 0 || _stopping) continue;
            _stopping = true;
            log.WorkerFailed(worker.Name, exit.ToString(), stopGrace.TotalSeconds, exit.ExitStatus, worker.LocalRank, worker.Rank);
            foreach (var other in _supervisors) other.StopGroup(SignalHub.SIGTERM);
        }
        // By waitpid's return, not by when this loop saw it: a worker that failed because another
        // had failed (a broken connection) ends after it.
        int decisive = Enumerable.Range(0, exits.Length).Where(i => exits[i]!.Value.ExitStatus != 0)
            .OrderBy(i => _supervisors[i].EndedAt).DefaultIfEmpty(last).First();
        return (_workers[decisive], exits[decisive]!.Value);
    }

    /// <summary>The hang watchdog's stop: every worker gets <paramref name="signal"/>, the grace, then
    /// SIGKILL. Refused once the job's stop has begun (a worker failed, a stop signal came): the
    /// failing worker's status, or the signal's, is the job's, and a silent grace must not turn it into 124.</summary>
    public bool Stop(int signal)
    {
        if (!_launcherStop.TryClaim(() => !_stopping)) return false;
        _stopping = true;
        foreach (var supervisor in _supervisors) supervisor.StopGroup(signal);
        return true;
    }

    public bool StoppedByLauncher => _launcherStop.TakeStatus();

    /// <summary>After every worker ended: ends what they left (the grace of a stop still holds),
    /// then stops forwarding.</summary>
    public void EndLeftovers()
    {
        foreach (var supervisor in _supervisors) supervisor.EndLeftovers();
        signals.ForwardTo(null);
    }

    /// <summary>On the signal thread: system calls only.</summary>
    private void Forward(int signal)
    {
        if (SignalHub.IsStopSignal(signal)) _stopping = true;
        bool later = _supervisors.Length > 0;
        foreach (var supervisor in _supervisors) later &= supervisor.ForwardToGroup(signal);
        // A later stop signal: the adopted processes get it too, once. (The first one's stop
        // told them already, from whichever worker's end found them first.)
        if (later) _adopted.SignalAll(signal);
    }
}
