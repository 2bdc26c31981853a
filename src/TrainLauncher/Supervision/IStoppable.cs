namespace TrainLauncher.Supervision;

/// <summary>What a stop the launcher decides (the hang watchdog) ends: one command, or every worker.</summary>
internal interface IStoppable
{
    /// <summary><paramref name="signal"/> now, the grace, then SIGKILL; false when nothing was left to stop.</summary>
    bool Stop(int signal);
}
