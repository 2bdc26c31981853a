namespace TrainLauncher.Supervision;

/// <summary>What a child needs set up in itself before its program runs.</summary>
/// <param name="DieWithLauncher">PR_SET_PDEATHSIG SIGKILL: a launcher that dies anyway (SIGKILL,
/// a crash) takes it along. Only for a child started from a thread that lives as long as it
/// does: the kernel sends the signal when the starting <em>thread</em> ends.</param>
/// <param name="TakeTerminal">Make its process group the terminal's foreground group before exec.</param>
/// <param name="RestoreCoreLimit">Give it back the RLIMIT_CORE the launcher was started with (<see cref="CoreDumps"/>).</param>
internal sealed record ChildSetup(bool DieWithLauncher = false, bool TakeTerminal = false, bool RestoreCoreLimit = false);
