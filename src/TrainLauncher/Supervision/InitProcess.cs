using System.Collections;
using System.Runtime.InteropServices;
using System.Text;
using TrainLauncher.Interop;
using TrainLauncher.Launch;

namespace TrainLauncher.Supervision;

/// <summary>
/// The launcher as PID 1 of a container splits in two, as `tini -- trainlauncher` would: this
/// small init, which only forwards signals (every one the launcher owns, <see cref="SignalHub"/>)
/// and reaps, and the real launcher as its child.
/// Why: when .NET is PID 1 and has started any Process (CliWrap does, for every dls-* tool), its
/// own SIGCHLD handler reaps every exited child with waitpid — the command's status included,
/// which CommandSupervisor then never sees (measured: "waitpid: No child processes"). As a
/// child, the launcher is an ordinary subreaper (<see cref="OrphanReaper"/>); this init never
/// starts a Process or touches the console, so nothing but its own loop waits here.
/// </summary>
internal static class InitProcess
{
    public static bool IsNeeded => Native.getpid() == 1;

    /// <summary>Runs the launcher as a child and returns its status (128+N if a signal ended it).</summary>
    public static unsafe int Run(string[] args, SignalHub signals)
    {
        string self = Environment.ProcessPath ?? "/proc/self/exe";
        var environment = new List<KeyValuePair<string, string>>();
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
            environment.Add(new((string)entry.Key, (string?)entry.Value ?? ""));

        int child;
        try
        {
            // A group of its own: a terminal's Ctrl-C reaches only this init, which passes it on once.
            child = CommandSpawner.SpawnInGroup(self, [self, .. args], environment, outputFd: -1, new ChildSetup(RestoreCoreLimit: true));
        }
        catch (SpawnException e)
        {
            WriteError($"[trainlauncher] error: as PID 1, cannot start the launcher itself: {e.Message}\n");
            return ExitCodes.LauncherFailure;
        }
        int missed = signals.ForwardTo(signal => Native.kill(child, signal));
        if (missed != 0) Native.kill(child, missed);

        while (true)
        {
            int status;
            int pid = Native.waitpid(-1, &status, 0);
            if (pid == child) return ChildExit.FromWaitStatus(status).ExitStatus;
            if (pid < 0 && Marshal.GetLastPInvokeError() != Native.EINTR)
            {
                WriteError($"[trainlauncher] error: as PID 1, lost the launcher's status: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}\n");
                return ExitCodes.LauncherFailure;
            }
        }
    }

    private static unsafe void WriteError(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        fixed (byte* p = bytes) Native.write(2, p, bytes.Length);
    }
}
