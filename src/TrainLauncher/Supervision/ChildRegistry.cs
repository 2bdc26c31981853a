using CliWrap;

namespace TrainLauncher.Supervision;

/// <summary>
/// The children somebody else waits for: the command (CommandSupervisor's waitpid) and every
/// dls-* tool started through CliWrap (System.Diagnostics.Process, which calls
/// Environment.FailFast when another waitpid took its child's status). The
/// <see cref="OrphanReaper"/> reaps only children that are not in here. A child can exit before
/// its starter learns its pid, so a scan never runs while a start is in progress.
/// </summary>
internal static class ChildRegistry
{
    private static readonly Lock Gate = new();
    private static readonly HashSet<int> Owned = [];
    private static int _starting;

    /// <summary>Wrap each process start in this and call <see cref="StartScope.Own"/> with the new pid.</summary>
    public static StartScope Starting()
    {
        lock (Gate) _starting++;
        return new StartScope();
    }

    /// <summary>Starts a CliWrap command (through <see cref="ExecTrampoline"/>, for a clean signal
    /// state) as an owned child; released when .NET has reaped it.</summary>
    public static CommandTask<T> Start<T>(Command command, Func<Command, CommandTask<T>> execute)
    {
        CommandTask<T> task;
        using (var scope = Starting())
        {
            task = ExecTrampoline.Execute(command, execute);
            scope.Own(task.ProcessId);
        }
        int pid = task.ProcessId;
        task.Task.ContinueWith(_ => Release(pid), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return task;
    }

    /// <summary>Its waiter has the status (or the process is gone): orphan rules apply again.</summary>
    public static void Release(int pid)
    {
        lock (Gate) Owned.Remove(pid);
    }

    /// <summary>Runs <paramref name="scan"/> with the owned pids, unless a start is in progress
    /// (then false: the caller scans again later). Starts wait until the scan ends.</summary>
    public static bool TryScan(Action<IReadOnlySet<int>> scan)
    {
        lock (Gate)
        {
            if (_starting > 0) return false;
            scan(Owned);
            return true;
        }
    }

    public readonly struct StartScope : IDisposable
    {
        public void Own(int pid)
        {
            lock (Gate) Owned.Add(pid);
        }

        public void Dispose()
        {
            lock (Gate) _starting--;
        }
    }
}
