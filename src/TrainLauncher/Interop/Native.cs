using System.Runtime.InteropServices;

namespace TrainLauncher.Interop;

/// <summary>
/// Every libc call of the launcher, in one place: spawning into a new process group with merged
/// stdout/stderr, waiting for that child, signalling its group, signal masks and signalfd, the
/// terminal's foreground group, process attributes (prctl, rlimit), exec, raw fd reads and
/// writes for the output pump (no stream layers, no allocation per call; tee(2) where both ends
/// are pipes), identity and resource usage.
/// </summary>
internal static unsafe partial class Native
{
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int ECHILD = 10;
    public const int ESRCH = 3;
    public const int ENOENT = 2;
    public const int EACCES = 13;
    public const int ENOEXEC = 8;
    public const int EPIPE = 32;
    public const int EINVAL = 22;

    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int SIGSTOP = 19;

    public const int SIG_BLOCK = 0;
    public const int SIG_UNBLOCK = 1;
    public const int SIG_SETMASK = 2;
    public const nint SIG_DFL = 0;
    public const nint SIG_IGN = 1;
    public const int SFD_CLOEXEC = 0x80000;
    /// <summary>glibc's sigset_t: 1024 bits.</summary>
    public const int SigsetSize = 128;
    /// <summary>struct signalfd_siginfo; ssi_signo is its first field.</summary>
    public const int SignalfdSiginfoSize = 128;

    public const int PR_SET_PDEATHSIG = 1;
    public const int PR_SET_DUMPABLE = 4;
    public const int RLIMIT_CORE = 4;
    public const int F_SETFD = 2;
    public const int FD_CLOEXEC = 1;
    public const int WUNTRACED = 2;

    public const int O_CLOEXEC = 0x80000;
    public const int F_SETPIPE_SZ = 1031;
    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int O_NONBLOCK = 0x800;
    public const int O_APPEND = 0x400;
    public const int WNOHANG = 1;
    public const int POLLIN = 1;
    public const int POLLOUT = 4;
    public const int POLLERR = 8;

    // glibc: POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
    public const short SpawnFlags = 0x02 | 0x04 | 0x08;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, byte* buffer, nint count);

    /// <summary>Duplicates up to <paramref name="count"/> bytes from one pipe into another without
    /// consuming them or copying them (page references): the log path's zero-copy step.</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial nint tee(int fdIn, int fdOut, nuint count, uint flags);

    /// <summary>tee(2) flag: fail with EAGAIN instead of waiting for data or room.</summary>
    public const uint SPLICE_F_NONBLOCK = 2;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int waitpid(int pid, int* status, int options);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int access(string path, int mode);

    public const int X_OK = 1;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int signal);

    [LibraryImport("libc")]
    public static partial int getpid();

    [LibraryImport("libc")]
    public static partial int getppid();

    [LibraryImport("libc")]
    public static partial int getpgrp();

    [LibraryImport("libc")]
    public static partial int getpgid(int pid);

    [LibraryImport("libc")]
    public static partial int isatty(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int tcgetpgrp(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int tcsetpgrp(int fd, int pgrp);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sigprocmask(int how, void* set, void* oldSet);

    [LibraryImport("libc")]
    public static partial int sigaddset(void* set, int signal);

    [LibraryImport("libc")]
    public static partial int sigismember(void* set, int signal);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int signalfd(int fd, void* mask, int flags);

    /// <summary>Only ever with SIG_DFL or SIG_IGN: managed code must never run as a signal handler.</summary>
    [LibraryImport("libc")]
    public static partial nint signal(int signal, nint handler);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getrlimit(int resource, RLimit* limit);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setrlimit(int resource, RLimit* limit);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int prlimit(int pid, int resource, RLimit* newLimit, RLimit* oldLimit);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int execv(byte* path, byte** argv);

    [LibraryImport("libc")]
    public static partial void _exit(int status);

    [LibraryImport("libc")]
    public static partial uint getuid();

    [LibraryImport("libc")]
    public static partial uint getgid();

    [LibraryImport("libc", SetLastError = true)]
    public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc")]
    public static partial int posix_spawn_file_actions_init(void* actions);

    [LibraryImport("libc")]
    public static partial int posix_spawn_file_actions_destroy(void* actions);

    [LibraryImport("libc")]
    public static partial int posix_spawn_file_actions_adddup2(void* actions, int fd, int newFd);

    [LibraryImport("libc")]
    public static partial int posix_spawnattr_init(void* attr);

    [LibraryImport("libc")]
    public static partial int posix_spawnattr_destroy(void* attr);

    [LibraryImport("libc")]
    public static partial int posix_spawnattr_setflags(void* attr, short flags);

    [LibraryImport("libc")]
    public static partial int posix_spawnattr_setpgroup(void* attr, int pgroup);

    [LibraryImport("libc")]
    public static partial int posix_spawnattr_setsigmask(void* attr, void* sigset);

    [LibraryImport("libc")]
    public static partial int posix_spawnattr_setsigdefault(void* attr, void* sigset);

    [LibraryImport("libc")]
    public static partial int sigemptyset(void* set);

    [LibraryImport("libc")]
    public static partial int sigfillset(void* set);

    [LibraryImport("libc")]
    public static partial int posix_spawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

    public const int RUSAGE_CHILDREN = -1;

    /// <summary>struct rusage as 18 longs (64-bit Linux); ru_maxrss is usage[4], in KiB.</summary>
    [LibraryImport("libc")]
    public static partial int getrusage(int who, long* usage);

    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    public static int ExitStatus(int status) => (status >> 8) & 0xff;
    public static bool Signaled(int status) => (status & 0x7f) != 0 && (status & 0x7f) != 0x7f;
    public static int TermSignal(int status) => status & 0x7f;
    public static bool Stopped(int status) => (status & 0xff) == 0x7f;
    public static int StopSignal(int status) => (status >> 8) & 0xff;
}
