using TrainLauncher.Interop;

namespace TrainLauncher.Supervision;

/// <summary>
/// When stdin is the launcher's controlling terminal and the launcher is in its foreground, the
/// command's process group becomes the foreground group, as a shell does for a foreground job
/// (dumb-init gives its child the terminal too): an interactive command (`input()`, pdb, a shell)
/// reads it instead of stopping on SIGTTIN, and Ctrl-C and Ctrl-Z reach it. The first hand-over
/// happens in the child before exec (<see cref="ExecTrampoline"/>), so the command never runs
/// without it; after a stop and SIGCONT it is handed over again; at the end it goes back. The
/// launcher may do this from the background: SIGTTOU is blocked in all its threads.
/// </summary>
internal sealed class TerminalHandOver
{
    private readonly int _foreground;

    private TerminalHandOver(int foreground) => _foreground = foreground;

    /// <summary>Null unless the terminal is ours to hand over: never taken from the shell of a
    /// `trainlauncher ... &amp;`. Under the launcher's own PID 1 init (which runs it in a group of
    /// its own) the init's group is the foreground one.</summary>
    public static TerminalHandOver? Detect()
    {
        if (Native.isatty(0) != 1) return null;
        int foreground = Native.tcgetpgrp(0);
        if (foreground < 0) return null; // not our controlling terminal
        return foreground == Native.getpgrp() || foreground == Native.getpgid(Native.getppid()) ? new TerminalHandOver(foreground) : null;
    }

    public void GiveTo(int pgid) => Native.tcsetpgrp(0, pgid);

    /// <summary>Back to the group that had it, unless someone else took it meanwhile.</summary>
    public void GiveBack(int pgid)
    {
        if (_foreground > 0 && Native.tcgetpgrp(0) == pgid) Native.tcsetpgrp(0, _foreground);
    }
}
