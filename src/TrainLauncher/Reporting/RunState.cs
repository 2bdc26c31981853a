using System.Diagnostics;
using TrainLauncher.Launch;

namespace TrainLauncher.Reporting;

/// <summary>
/// Where the run is now and how it got there; read by anything that reports on it (the health
/// endpoint from its own thread, the termination message and the summary at the end).
/// </summary>
internal sealed class RunState
{
    private readonly Lock _lock = new();
    private readonly long _startTimestamp = Stopwatch.GetTimestamp();
    private readonly List<(LaunchPhase Phase, TimeSpan At)> _entered = [(LaunchPhase.Starting, TimeSpan.Zero)];
    private volatile int _phase;
    private volatile int _commandPid;
    private int? _exitCode;

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_startTimestamp);

    /// <summary>Counters the steps fill in for the run summary.</summary>
    public RunReport Report { get; } = new();

    public LaunchPhase Phase
    {
        get => (LaunchPhase)_phase;
        set
        {
            lock (_lock)
            {
                if ((int)value == _phase) return;
                _phase = (int)value;
                _entered.Add((value, Elapsed));
            }
        }
    }

    /// <summary>The command's pid once it was started (it stays after the command ended), else 0.</summary>
    public int CommandPid
    {
        get => _commandPid;
        set => _commandPid = value;
    }

    /// <summary>The command while it runs (its output and its supervisor), else null.</summary>
    public Watchdog.RunningCommand? Running
    {
        get => Volatile.Read(ref _running);
        set => Volatile.Write(ref _running, value);
    }

    private Watchdog.RunningCommand? _running;

    /// <summary>Set when the hang watchdog stopped the command: the silence it saw, in seconds.</summary>
    public double? StoppedAsHungAfter
    {
        get { lock (_lock) return _hungAfter; }
        set { lock (_lock) _hungAfter = value; }
    }

    private double? _hungAfter;

    /// <summary>When the checkpoint sync last completed (a restore counts), for /status.</summary>
    public DateTimeOffset? LastCheckpointSync
    {
        get { lock (_lock) return _lastCheckpointSync; }
        set { lock (_lock) _lastCheckpointSync = value; }
    }

    private DateTimeOffset? _lastCheckpointSync;

    /// <summary>The command's status once it ended, then the launcher's final status; null before.</summary>
    public int? ExitCode
    {
        get { lock (_lock) return _exitCode; }
        set { lock (_lock) _exitCode = value; }
    }

    /// <summary>The command has been reaped: its status is known to /status and /health.</summary>
    public void CommandEnded(TrainLauncher.Supervision.ChildExit exit)
    {
        Report.CommandEnd = exit.ToString();
        ExitCode = exit.ExitStatus;
    }

    /// <summary>The command's own status once it ended (it was started and reaped), else null.</summary>
    public int? CommandStatus => Report.CommandEnd is null ? null : ExitCode;

    /// <summary>Healthy until a non-zero status is known (SPEC 11).</summary>
    public bool Healthy => ExitCode is null or 0;

    /// <summary>Each phase the run went through, with how long it lasted (the current one up to now).</summary>
    public IReadOnlyList<(LaunchPhase Phase, TimeSpan Duration)> PhaseDurations()
    {
        lock (_lock)
        {
            var now = Elapsed;
            return _entered.Select((entry, i) => (entry.Phase, (i + 1 < _entered.Count ? _entered[i + 1].At : now) - entry.At)).ToList();
        }
    }

    public static string Name(LaunchPhase phase) => phase.ToString().ToLowerInvariant();
}
