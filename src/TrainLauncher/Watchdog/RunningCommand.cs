using TrainLauncher.Output;
using TrainLauncher.Supervision;

namespace TrainLauncher.Watchdog;

/// <summary>The running command as the watchdog and /status see it: when it last wrote, and how to stop it.</summary>
internal sealed record RunningCommand(OutputPump Output, CommandSupervisor Supervisor)
{
    public TimeSpan SinceLastOutput => System.Diagnostics.Stopwatch.GetElapsedTime(Output.LastOutputTimestamp);
}
