using System.Runtime.InteropServices;
using TrainLauncher.Interop;

namespace TrainLauncher.Supervision;

/// <summary>
/// Keeps the process tree clean for the whole run (SPEC 8). The launcher is a child subreaper,
/// so whatever the command leaves behind (a finished worker, a double-forked daemon) is
/// reparented to it rather than to the container's init; each one that has exited is reaped
/// here, and <see cref="JobEnd"/> ends the live ones (<see cref="AdoptedOutside"/>).
///
/// Never waitpid(-1): that would also take the status of the command or of a CliWrap tool from
/// its own waiter (.NET fails fast on that). Instead the children are listed from /proc and only
/// zombies that nobody registered in <see cref="ChildRegistry"/> are reaped, one pid at a time.
/// A scan runs on SIGCHLD (.NET's own SIGCHLD handling, which reaps its Process children,
/// runs first and is not affected) and every few seconds, in case a scan was skipped because a
/// tool was starting.
/// </summary>
internal sealed class OrphanReaper : IDisposable
{
    private const int PR_SET_CHILD_SUBREAPER = 36;
    private static readonly TimeSpan Fallback = TimeSpan.FromSeconds(5);

    private readonly PosixSignalRegistration _sigchld;
    private readonly Timer _timer;

    private OrphanReaper()
    {
        _sigchld = PosixSignalRegistration.Create(PosixSignal.SIGCHLD, _ => ReapOrphans());
        _timer = new Timer(_ => ReapOrphans(), null, Fallback, Fallback);
    }

    /// <summary>Makes the launcher a subreaper and starts reaping. Not for PID 1: see <see cref="InitProcess"/>.</summary>
    public static OrphanReaper Start()
    {
        Native.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        return new OrphanReaper();
    }

    /// <summary>Reaps every exited child nobody else waits for; returns how many.</summary>
    public static int ReapOrphans()
    {
        int reaped = 0;
        ChildRegistry.TryScan(owned =>
        {
            foreach (int pid in Children())
                if (!owned.Contains(pid) && IsZombie(pid) && WaitNoHang(pid)) reaped++;
        });
        return reaped;
    }

    /// <summary>
    /// The live processes the launcher adopted (its children that are neither the command nor a
    /// tool: workers whose parent died, double-forked daemons) outside the process groups
    /// <paramref name="pgids"/> (the job's), which a signal to each group reaches already.
    /// </summary>
    public static List<int> AdoptedOutside(IReadOnlyCollection<int> pgids)
    {
        var adopted = new List<int>();
        ChildRegistry.TryScan(owned => adopted.AddRange(Children().Where(pid => !owned.Contains(pid) && !IsZombie(pid) && !pgids.Contains(Native.getpgid(pid)))));
        return adopted;
    }

    /// <summary>Our children, from every thread's list: a reparented process may land on any thread.</summary>
    private static IEnumerable<int> Children()
    {
        var pids = new HashSet<int>();
        foreach (string task in SafeDirectories("/proc/self/task"))
        {
            string text;
            try { text = File.ReadAllText(Path.Combine(task, "children")); }
            catch (IOException) { continue; } // the thread ended meanwhile
            foreach (var field in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                if (int.TryParse(field, out int pid)) pids.Add(pid);
        }
        return pids;
    }

    private static string[] SafeDirectories(string path)
    {
        try { return Directory.GetDirectories(path); }
        catch (IOException) { return []; }
    }

    /// <summary>State 'Z' in /proc/PID/stat (the field after the last ')': the name may hold one).</summary>
    private static bool IsZombie(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int end = stat.LastIndexOf(')');
            return end > 0 && end + 2 < stat.Length && stat[end + 2] == 'Z';
        }
        catch (IOException) { return false; }
    }

    private static unsafe bool WaitNoHang(int pid)
    {
        int status;
        int result;
        while ((result = Native.waitpid(pid, &status, Native.WNOHANG)) < 0 && Marshal.GetLastPInvokeError() == Native.EINTR) { }
        return result == pid;
    }

    public void Dispose()
    {
        _sigchld.Dispose();
        _timer.Dispose();
    }
}
