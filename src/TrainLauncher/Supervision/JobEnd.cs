using System.Diagnostics;
using TrainLauncher.Interop;

namespace TrainLauncher.Supervision;

/// <summary>
/// How the processes of a job are ended (SPEC 8, 13): the command's process group and every
/// process the launcher adopted get one signal, then have until a deadline, then SIGKILL until
/// none is left. After a stop signal, that signal goes to each of them once (to the group at
/// once, to adopted processes outside it as they are found; never twice: a second SIGTERM would
/// re-enter a checkpoint handler) and the deadline is the whole grace counted from the signal.
/// After the command ended on its own, its leftovers get SIGTERM after a short settle (they may
/// still be handling a signal they got with the command) and SIGKILL after min(grace, 2 s).
/// Each <c>--per-device</c> worker's group has a JobEnd of its own; the adopted processes are
/// the job's (<see cref="AdoptedProcesses"/>), told once whichever group's end finds them.
/// </summary>
internal sealed class JobEnd
{
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LeftoverGrace = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan KillRounds = TimeSpan.FromSeconds(5);

    private readonly int _pgid;
    private readonly int _signal;
    private readonly long _tellFrom;
    private readonly long _killAt;
    private readonly AdoptedProcesses _adopted;
    private readonly Lock _lock = new();
    private readonly ManualResetEventSlim _finished = new();
    private bool _groupTold;

    private JobEnd(int pgid, AdoptedProcesses adopted, int signal, long tellFrom, long killAt, bool groupTold)
    {
        _pgid = pgid;
        _adopted = adopted;
        _signal = signal;
        _tellFrom = tellFrom;
        _killAt = killAt;
        _groupTold = groupTold;
    }

    /// <summary>The end for a stop signal: <see cref="TellNow"/> gives <paramref name="signal"/> to
    /// the group, then to the adopted processes. The grace counts from <paramref name="sentAt"/>
    /// (a <see cref="Stopwatch"/> timestamp).</summary>
    public static JobEnd ForStopSignal(int pgid, AdoptedProcesses adopted, int signal, long sentAt, TimeSpan grace) =>
        new(pgid, adopted, signal, sentAt, sentAt + Ticks(grace), groupTold: false);

    /// <summary>The stop signal to the group and the adopted processes, once each.</summary>
    public void TellNow() => Tell();

    public static JobEnd AfterExit(int pgid, AdoptedProcesses adopted, TimeSpan grace)
    {
        long now = Stopwatch.GetTimestamp();
        return new JobEnd(pgid, adopted, Native.SIGTERM, now + Ticks(Min(Settle, grace)), now + Ticks(Min(LeftoverGrace, grace)), groupTold: false);
    }

    /// <summary>Waits until nothing of the job is left (or 5 s of SIGKILL rounds have passed),
    /// signalling newly adopted processes and killing from the deadline on.</summary>
    public void Finish()
    {
        while (true)
        {
            long now = Stopwatch.GetTimestamp();
            bool left = now >= _killAt ? Kill() : Tell();
            OrphanReaper.ReapOrphans();
            if (!left || now > _killAt + Ticks(KillRounds)) break;
            Thread.Sleep(5);
        }
        _finished.Set();
    }

    /// <summary>For a timer thread: waits for the deadline; false if the job was gone before it.</summary>
    public bool WaitForDeadline()
    {
        long left = _killAt - Stopwatch.GetTimestamp();
        return left <= 0 ? !_finished.IsSet : !_finished.Wait(TimeSpan.FromTicks(left * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
    }

    /// <summary>SIGKILL to the group and to every adopted process; false when none was left.</summary>
    public bool Kill()
    {
        bool groupAlive = Native.kill(-_pgid, Native.SIGKILL) == 0;
        return _adopted.SignalAll(Native.SIGKILL) || groupAlive;
    }

    /// <summary>The signal to whoever of the job has not had it (once the settle is over); false when none is left.</summary>
    private bool Tell()
    {
        lock (_lock)
        {
            bool tell = Stopwatch.GetTimestamp() >= _tellFrom;
            bool groupAlive = Native.kill(-_pgid, tell && !_groupTold ? _signal : 0) == 0;
            _groupTold |= tell;
            return _adopted.TellOnce(_signal, tell) || groupAlive;
        }
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
