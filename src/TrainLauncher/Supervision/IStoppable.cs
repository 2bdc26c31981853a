namespace TrainLauncher.Supervision;

/// <summary>What a stop the launcher decides (the hang watchdog) ends: one command, or every worker.</summary>
internal interface IStoppable
{
    /// <summary><paramref name="signal"/> now, the grace, then SIGKILL. True when this call decided
    /// the stop (the status is then the launcher's, 124); false when the command had ended and its
    /// status was taken, or a stop had begun.</summary>
    bool Stop(int signal);

    /// <summary>Read once the command ended, to decide its status: whether <see cref="Stop"/> came
    /// first. From this read on, <see cref="Stop"/> returns false: the decision and the status are
    /// one answer, never a 124 for a command that ended on its own.</summary>
    bool StoppedByLauncher { get; }
}
