using System.Runtime.InteropServices;

namespace TrainLauncher.Supervision;

/// <summary>
/// Receives the signals a container runtime or a user sends the launcher (SPEC 8) and turns
/// them into decisions: before the command runs, a stop signal cancels the current step; while
/// it runs, every signal goes to its process group. Registered once, at start, with the
/// default action cancelled, so the launcher is never killed before the command is.
/// </summary>
internal sealed class SignalHub : IDisposable
{
    public const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGUSR1 = 10, SIGUSR2 = 12, SIGTERM = 15;

    private static readonly int[] Forwarded = [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2];
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private Action<int>? _forward;
    private int _stopSignal;

    public SignalHub()
    {
        foreach (int signal in Forwarded)
            _registrations.Add(PosixSignalRegistration.Create((PosixSignal)signal, OnSignal));
    }

    /// <summary>Cancelled by the first stop signal (TERM, INT, HUP, QUIT).</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>The first stop signal received, or 0.</summary>
    public int StopSignal => Volatile.Read(ref _stopSignal);

    public static bool IsStopSignal(int signal) => signal is SIGTERM or SIGINT or SIGHUP or SIGQUIT;

    /// <summary>From now on every signal received is handed to <paramref name="forward"/>.</summary>
    public void ForwardTo(Action<int>? forward)
    {
        lock (_lock) _forward = forward;
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        int signal = (int)context.Signal;
        Action<int>? forward;
        lock (_lock)
        {
            forward = _forward;
            if (IsStopSignal(signal)) Interlocked.CompareExchange(ref _stopSignal, signal, 0);
        }
        forward?.Invoke(signal);
        if (IsStopSignal(signal)) _stop.Cancel();
    }

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
    }
}
