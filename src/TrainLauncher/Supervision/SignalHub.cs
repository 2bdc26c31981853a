using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using TrainLauncher.Output;
using TrainLauncher.Interop;

namespace TrainLauncher.Supervision;

/// <summary>
/// Owns every signal sent to the launcher (SPEC 8, 13), as dumb-init does: before the command
/// runs, a stop signal cancels the current step; while it runs, each signal goes to its process
/// group; TSTP, TTIN and TTOU, once passed on, stop the launcher too, and CONT resumes it.
///
/// How: the signals in <see cref="Owned"/> are blocked in every thread and read, in order, from a
/// signalfd by one thread of ours. Blocked, a signal never runs its default action, so none of
/// them ends or stops the launcher; a real fault in the launcher's own code (SIGILL, SIGBUS,
/// abort's SIGABRT) is forced through by the kernel and ends it, instead of looping through a
/// handler that returns to the faulting instruction; and a SIGPIPE or SIGXFSZ caused by the
/// launcher's own write is sent to the writing thread and stays pending there (the write fails
/// with EPIPE or EFBIG), so only signals sent to the launcher are passed on. Managed code never
/// runs inside a signal handler.
///
/// Not owned: SIGKILL and SIGSTOP (they cannot be caught), SIGCHLD (the launcher's own: it reaps),
/// SIGSEGV and SIGFPE, which belong to the .NET runtime: it turns them into NullReferenceException
/// and DivideByZeroException, and blocked they would turn those into crashes.
/// </summary>
internal sealed class SignalHub : IDisposable
{
    public const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGFPE = 8, SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12,
        SIGPIPE = 13, SIGTERM = 15, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22, SIGXFSZ = 25;

    /// <summary>1–31 but KILL, STOP, CHLD, SEGV and FPE.</summary>
    public static IReadOnlyList<int> Owned { get; } =
        [.. Enumerable.Range(1, 31).Where(s => s is not (SIGKILL or SIGSTOP or SIGCHLD or SIGSEGV or SIGFPE))];

    private readonly List<PosixSignalRegistration> _fallbacks = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly bool _followJobControl;
    private readonly int _signalFd;
    private Action<int>? _forward;
    private int _missedStop;
    private int _stopSignal;
    private long _stopTimestamp;

    /// <param name="followJobControl">Stop the launcher itself after passing on TSTP, TTIN or TTOU.
    /// False for the PID 1 init, which the kernel does not let stop.</param>
    public SignalHub(bool followJobControl)
    {
        _followJobControl = followJobControl;
        // Inherited as ignored, SIGCHLD would make the kernel reap every child itself, and waitpid
        // would never see the command's status (measured: "No child processes", a crash).
        Native.signal(SIGCHLD, Native.SIG_DFL);
        // SIGPIPE and SIGXFSZ ignored, the rest at their default, all before .NET's first
        // registration: it installs nothing for a signal it finds ignored (nohup's SIGHUP, the
        // SIGINT of a `cmd &`) and never looks again.
        foreach (int signal in Owned) Native.signal(signal, signal is SIGPIPE or SIGXFSZ ? Native.SIG_IGN : Native.SIG_DFL);
        // Blocked before .NET starts its own signal thread, which inherits the mask.
        _signalFd = BlockEverywhere();
        // A fallback for any thread that does not block them after all: .NET's handler only
        // writes the number to a pipe, and the callback runs on a thread of its own. Not for
        // SIGPIPE and SIGXFSZ: that path cannot tell a sent one from one the launcher's own write
        // caused, so they stay ignored there.
        foreach (int signal in Owned)
        {
            if (signal is SIGPIPE or SIGXFSZ) continue;
            _fallbacks.Add(PosixSignalRegistration.Create((PosixSignal)signal, context =>
            {
                context.Cancel = true;
                Dispatch(signal);
            }));
        }
        if (_signalFd >= 0) new Thread(ReadSignals) { IsBackground = true, Name = "signals" }.Start();
    }

    /// <summary>Cancelled by the first stop signal (TERM, INT, HUP, QUIT).</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>The first stop signal received, or 0.</summary>
    public int StopSignal => Volatile.Read(ref _stopSignal);

    /// <summary>When the first stop signal came (<see cref="Stopwatch.GetTimestamp"/>): the grace counts from it.</summary>
    public long StopTimestamp => Volatile.Read(ref _stopTimestamp);

    public static bool IsStopSignal(int signal) => signal is SIGTERM or SIGINT or SIGHUP or SIGQUIT;

    public static bool IsJobControlStop(int signal) => signal is SIGTSTP or SIGTTIN or SIGTTOU;

    /// <summary>From now on every signal received is handed to <paramref name="forward"/>, on the
    /// signal thread: it must not block (no logging there; hand that to the thread pool).</summary>
    /// <returns>A stop signal that came while nothing was forwarded (and was not passed on), or 0.</returns>
    public int ForwardTo(Action<int>? forward)
    {
        lock (_lock)
        {
            _forward = forward;
            return Interlocked.Exchange(ref _missedStop, 0);
        }
    }

    private void Dispatch(int signal)
    {
        try
        {
            Action<int>? forward;
            lock (_lock)
            {
                forward = _forward;
                if (IsStopSignal(signal) && _stopSignal == 0)
                {
                    _stopTimestamp = Stopwatch.GetTimestamp();
                    Volatile.Write(ref _stopSignal, signal);
                }
                if (IsStopSignal(signal) && forward is null) _missedStop = signal;
            }
            forward?.Invoke(signal);
            // Cancellation callbacks then run on the thread pool, never on this thread.
            if (IsStopSignal(signal)) _ = _stop.CancelAsync();
            if (_followJobControl && IsJobControlStop(signal)) Native.kill(Native.getpid(), Native.SIGSTOP);
        }
        catch (Exception e)
        {
            Report($"handling {SignalNames.Name(signal)} failed: {e.GetType().Name}: {e.Message}");
        }
    }

    private unsafe void ReadSignals()
    {
        byte* info = stackalloc byte[Native.SignalfdSiginfoSize];
        while (true)
        {
            nint n = Native.read(_signalFd, info, Native.SignalfdSiginfoSize);
            if (n == Native.SignalfdSiginfoSize)
            {
                Dispatch((int)*(uint*)info); // ssi_signo, the first field
                continue;
            }
            if (n < 0 && Marshal.GetLastPInvokeError() == Native.EINTR) continue;
            Report($"reading signals stopped: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            return;
        }
    }

    /// <summary>Blocks <see cref="Owned"/> in this thread (every thread started from now on
    /// inherits it) and in the finalizer thread, which .NET starts before Main; returns the
    /// signalfd that reads them, or -1 (then nothing is blocked and the fallbacks take them).</summary>
    private static unsafe int BlockEverywhere()
    {
        byte* set = stackalloc byte[Native.SigsetSize];
        OwnedSet(set);
        int fd = Native.signalfd(-1, set, Native.SFD_CLOEXEC);
        if (fd < 0)
        {
            Report($"no signalfd ({Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}); signals go through .NET's handlers");
            Native.sigprocmask(Native.SIG_UNBLOCK, set, null); // blocked before the runtime started
            return -1;
        }
        // Blocked since before the runtime started (before-runtime.c), or inherited so: every
        // thread has them blocked already. Otherwise (a JIT build) reach the finalizer thread too.
        bool blockedSinceStart = AllBlockedInThisThread();
        Native.sigprocmask(Native.SIG_BLOCK, set, null);
        if (!blockedSinceStart) BlockInFinalizerThread();
        return fd;
    }

    private static unsafe void OwnedSet(byte* set)
    {
        Native.sigemptyset(set);
        foreach (int signal in Owned) Native.sigaddset(set, signal);
    }

    private static unsafe bool AllBlockedInThisThread()
    {
        byte* current = stackalloc byte[Native.SigsetSize];
        if (Native.sigprocmask(Native.SIG_BLOCK, null, current) != 0) return false;
        foreach (int signal in Owned)
            if (Native.sigismember(current, signal) != 1) return false;
        return true;
    }

    private static unsafe void BlockOwnedInThisThread()
    {
        byte* set = stackalloc byte[Native.SigsetSize];
        OwnedSet(set);
        Native.sigprocmask(Native.SIG_BLOCK, set, null);
    }

    /// <summary>A finalizer runs on the finalizer thread: one that blocks the signals there.</summary>
    private static void BlockInFinalizerThread()
    {
        Abandon();
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Abandon() => _ = new FinalizerThreadBlocker();

    private sealed class FinalizerThreadBlocker
    {
        ~FinalizerThreadBlocker() => BlockOwnedInThisThread();
    }

    /// <summary>Straight to stderr: this runs before the logger exists, and must not wait for stdout.</summary>
    private static void Report(string text) =>
        FdWriter.WriteAll(2, Encoding.UTF8.GetBytes($"[trainlauncher] warning: signals: {text}\n"));

    public void Dispose()
    {
        foreach (var registration in _fallbacks) registration.Dispose();
    }
}
