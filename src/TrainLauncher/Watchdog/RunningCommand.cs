using TrainLauncher.Output;
using TrainLauncher.Supervision;

namespace TrainLauncher.Watchdog;

/// <summary>The running command as the watchdog and /status see it: when it last wrote, and how
/// to stop it (its supervisor, or the group of every <c>--per-device</c> worker).</summary>
internal sealed record RunningCommand(OutputPump Output, IStoppable Command)
{
    public TimeSpan SinceLastOutput => System.Diagnostics.Stopwatch.GetElapsedTime(Output.LastOutputTimestamp);
}
