using TrainLauncher.Interop;

namespace TrainLauncher.Supervision;

/// <summary>
/// The launcher holds decrypted secrets in memory, so it leaves no core dump: PR_SET_DUMPABLE 0
/// (no core even with `ulimit -c unlimited`; processes of the same user can neither ptrace it nor
/// read its /proc/PID/environ or mem) and RLIMIT_CORE 0 (for hosts with fs.suid_dumpable=2, which
/// would still dump a non-dumpable process; core collectors such as systemd-coredump honour the
/// limit). The command gets the limit back (<see cref="ExecTrampoline"/>) and is dumpable as
/// usual: exec resets the flag.
/// </summary>
internal static class CoreDumps
{
    /// <summary>The soft RLIMIT_CORE the launcher was started with, for the command; null if unknown.</summary>
    public static ulong? StartLimit { get; private set; }

    public static unsafe void Disable()
    {
        Native.prctl(Native.PR_SET_DUMPABLE, 0, 0, 0, 0);
        Native.RLimit limit;
        if (Native.getrlimit(Native.RLIMIT_CORE, &limit) != 0) return;
        StartLimit = limit.Current;
        limit.Current = 0;
        Native.setrlimit(Native.RLIMIT_CORE, &limit);
    }
}
