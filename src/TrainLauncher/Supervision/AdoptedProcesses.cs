using TrainLauncher.Interop;

namespace TrainLauncher.Supervision;

/// <summary>
/// The job's process groups (one command's, or every <c>--per-device</c> worker's) and the live
/// processes the launcher adopted outside all of them (<see cref="OrphanReaper"/>). A signal to a
/// group reaches its own members; what is outside every group is told a stop signal here, once
/// for the whole job however many groups end (a second SIGTERM would re-enter a checkpoint handler).
/// </summary>
internal sealed class AdoptedProcesses
{
    private readonly Lock _lock = new();
    private readonly HashSet<int> _groups = [];
    private readonly HashSet<int> _told = [];

    /// <summary>A group of the job: its members are not "adopted", whoever's child they became.</summary>
    public void AddGroup(int pgid)
    {
        lock (_lock) _groups.Add(pgid);
    }

    /// <summary>The adopted processes alive now, outside every group of the job.</summary>
    public List<int> Live()
    {
        int[] groups;
        lock (_lock) groups = [.. _groups];
        return OrphanReaper.AdoptedOutside(groups);
    }

    /// <summary><paramref name="signal"/> to each live adopted process that has not had one from
    /// <see cref="TellOnce"/>; true when any is alive.</summary>
    public bool TellOnce(int signal, bool tell)
    {
        var live = Live();
        if (tell)
            lock (_lock)
                foreach (int pid in live)
                    if (_told.Add(pid)) Native.kill(pid, signal);
        return live.Count > 0;
    }

    /// <summary><paramref name="signal"/> to every live adopted process (a later stop signal, SIGKILL); true when any was alive.</summary>
    public bool SignalAll(int signal)
    {
        var live = Live();
        foreach (int pid in live) Native.kill(pid, signal);
        return live.Count > 0;
    }
}
