using TrainLauncher.Interop;

namespace TrainLauncher.Supervision;

/// <summary>How the command ended: its exit code, or the signal that killed it (tini's 128+N).</summary>
internal readonly record struct ChildExit(int? Code, int? Signal)
{
    public int ExitStatus => Code ?? 128 + Signal!.Value;

    public static ChildExit FromWaitStatus(int status) =>
        Native.Signaled(status) ? new(null, Native.TermSignal(status)) : new(Native.ExitStatus(status), null);

    public override string ToString() => Code is { } code ? $"exit status {code}" : $"signal {SignalNames.Name(Signal!.Value)}";
}
