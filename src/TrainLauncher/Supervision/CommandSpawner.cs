using System.Runtime.InteropServices;
using System.Text;
using TrainLauncher.Interop;

namespace TrainLauncher.Supervision;

/// <summary>
/// Starts the user's command with posix_spawn: in a process group of its own (so signals can go
/// to the whole group, as torchrun does with its workers), with fd 1 and fd 2 on the same pipe,
/// which merges the streams in write order as `2>&1`, through <see cref="ExecTrampoline"/> (clean
/// signal state, PR_SET_PDEATHSIG, the terminal). System.Diagnostics.Process can do neither a
/// process group nor a shared pipe.
/// </summary>
internal static unsafe class CommandSpawner
{
    // Bigger than the 64 KiB default so a chatty command blocks less often on a slow reader.
    private const int PipeSize = 1 << 20;
    private const int F_DUPFD_CLOEXEC = 1030;

    /// <exception cref="SpawnException">the OS refused to start the program</exception>
    public static SpawnedCommand Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<KeyValuePair<string, string>> environment, ChildSetup setup)
    {
        int* fds = stackalloc int[2];
        if (Native.pipe2(fds, Native.O_CLOEXEC) != 0)
            throw new SpawnException(Marshal.GetLastPInvokeError(), "cannot create the output pipe");
        Native.fcntl(fds[1], Native.F_SETPIPE_SZ, PipeSize); // best effort: the default still works
        try
        {
            return new SpawnedCommand(SpawnInGroup(path, argv, environment, fds[1], setup), fds[0]);
        }
        catch (SpawnException)
        {
            Native.close(fds[0]);
            throw;
        }
        finally
        {
            Native.close(fds[1]);
        }
    }

    /// <summary>
    /// Starts a program in a process group of its own, output to <paramref name="outputFd"/> (or
    /// inherited when -1), input from <paramref name="inputFd"/> (or inherited when -1), and returns
    /// once it runs the program (or throws why it cannot). Its pid is registered in <see cref="ChildRegistry"/> before the <see cref="OrphanReaper"/> may
    /// scan again, so only its own waiter reaps it; that waiter releases it.
    /// </summary>
    /// <exception cref="SpawnException">the OS refused to start the program</exception>
    public static int SpawnInGroup(string path, IReadOnlyList<string> argv, IReadOnlyList<KeyValuePair<string, string>> environment, int outputFd, ChildSetup setup, int inputFd = -1)
    {
        if (ExecTrampoline.Usable && SpawnThroughTrampoline(path, argv, environment, outputFd, inputFd, setup) is { } pid) return pid;
        return SpawnDirectly(path, argv, environment, outputFd, inputFd, setup);
    }

    /// <summary>Null when this binary cannot exec itself.</summary>
    private static int? SpawnThroughTrampoline(string path, IReadOnlyList<string> argv, IReadOnlyList<KeyValuePair<string, string>> environment, int outputFd, int inputFd, ChildSetup setup)
    {
        int* errorPipe = stackalloc int[2];
        if (Native.pipe2(errorPipe, Native.O_CLOEXEC) != 0)
            throw new SpawnException(Marshal.GetLastPInvokeError(), "cannot create a pipe");
        // The child's copy of the write end: a number of its own, so the file action below (dup2)
        // clears close-on-exec on it in the child only; the trampoline sets it again before exec.
        int childErrorFd = Native.fcntl(errorPipe[1], F_DUPFD_CLOEXEC, 3);
        int pid, error;
        using (var start = ChildRegistry.Starting())
        {
            error = PosixSpawn(ExecTrampoline.Self, ExecTrampoline.Arguments(setup, childErrorFd, path, argv), environment, outputFd, inputFd, errorPipe[1], childErrorFd, out pid);
            Native.close(errorPipe[1]);
            if (childErrorFd >= 0) Native.close(childErrorFd);
            if (error == 0) start.Own(pid);
        }
        if (error != 0)
        {
            Native.close(errorPipe[0]);
            if (error != Native.ENOEXEC) throw new SpawnException(error, $"cannot start {path}");
            ExecTrampoline.SelfExecFailed();
            return null;
        }
        error = ReadExecError(errorPipe[0]);
        Native.close(errorPipe[0]);
        if (error == 0) return pid;
        while (Native.waitpid(pid, null, 0) < 0 && Marshal.GetLastPInvokeError() == Native.EINTR) { } // the trampoline has exited
        ChildRegistry.Release(pid);
        throw new SpawnException(error, $"cannot start {path}");
    }

    /// <summary>Without the trampoline: the same signal state (posix_spawn resets it), /bin/sh for
    /// ENOEXEC, the terminal and core limit set from here; no PR_SET_PDEATHSIG.</summary>
    private static int SpawnDirectly(string path, IReadOnlyList<string> argv, IReadOnlyList<KeyValuePair<string, string>> environment, int outputFd, int inputFd, ChildSetup setup)
    {
        int pid;
        using (var start = ChildRegistry.Starting())
        {
            int error = PosixSpawn(path, argv, environment, outputFd, inputFd, -1, -1, out pid);
            if (error == Native.ENOEXEC && PosixSpawn("/bin/sh", ["/bin/sh", path, .. argv.Skip(1)], environment, outputFd, inputFd, -1, -1, out pid) == 0)
                error = 0;
            if (error != 0) throw new SpawnException(error, $"cannot start {path}");
            start.Own(pid);
        }
        if (setup.TakeTerminal) Native.tcsetpgrp(0, pid);
        if (setup.RestoreCoreLimit && CoreDumps.StartLimit is { } soft)
        {
            Native.RLimit limit;
            if (Native.prlimit(pid, Native.RLIMIT_CORE, null, &limit) == 0)
            {
                limit.Current = Math.Min(soft, limit.Maximum);
                Native.prlimit(pid, Native.RLIMIT_CORE, &limit, null);
            }
        }
        return pid;
    }

    /// <summary>0 when the pipe closed empty (the exec succeeded), else the child's errno.</summary>
    private static int ReadExecError(int fd)
    {
        int errno = 0;
        nint n;
        while ((n = Native.read(fd, (byte*)&errno, sizeof(int))) < 0 && Marshal.GetLastPInvokeError() == Native.EINTR) { }
        return n == sizeof(int) ? errno : 0;
    }

    /// <summary>posix_spawn of <paramref name="program"/> into a new group; 0 or the error.</summary>
    private static int PosixSpawn(string program, IReadOnlyList<string> argv, IReadOnlyList<KeyValuePair<string, string>> environment, int outputFd, int inputFd, int errorFd, int childErrorFd, out int pid)
    {
        var strings = new NativeStrings();
        const int opaque = 1024; // larger than glibc's posix_spawnattr_t (336) and file_actions_t (80)
        void* attr = NativeMemory.AllocZeroed(opaque);
        void* actions = NativeMemory.AllocZeroed(opaque);
        void* sigset = NativeMemory.AllocZeroed(opaque);
        try
        {
            // Every signal at its default and an empty mask: the launcher blocks and ignores some,
            // and both would survive exec.
            Native.posix_spawnattr_init(attr);
            Native.posix_spawnattr_setflags(attr, Native.SpawnFlags);
            Native.posix_spawnattr_setpgroup(attr, 0);
            Native.sigemptyset(sigset);
            Native.posix_spawnattr_setsigmask(attr, sigset);
            Native.sigfillset(sigset);
            Native.posix_spawnattr_setsigdefault(attr, sigset);

            Native.posix_spawn_file_actions_init(actions);
            if (outputFd >= 0)
            {
                Native.posix_spawn_file_actions_adddup2(actions, outputFd, 1);
                Native.posix_spawn_file_actions_adddup2(actions, outputFd, 2);
            }
            if (childErrorFd >= 0) Native.posix_spawn_file_actions_adddup2(actions, errorFd, childErrorFd);
            if (inputFd >= 0) Native.posix_spawn_file_actions_adddup2(actions, inputFd, 0);

            byte* pathBytes = strings.Add(program);
            byte** args = strings.AddArray(argv);
            var pairs = new string[environment.Count];
            for (int i = 0; i < pairs.Length; i++) pairs[i] = environment[i].Key + "=" + environment[i].Value;
            byte** envp = strings.AddArray(pairs);

            int child;
            int error = Native.posix_spawn(&child, pathBytes, actions, attr, args, envp);
            pid = child;
            return error;
        }
        finally
        {
            Native.posix_spawn_file_actions_destroy(actions);
            Native.posix_spawnattr_destroy(attr);
            NativeMemory.Free(attr);
            NativeMemory.Free(actions);
            NativeMemory.Free(sigset);
            strings.Dispose(); // zeroes the copies: the environment may hold decrypted secrets
        }
    }

    /// <summary>NUL-terminated copies in unmanaged memory, wiped and freed together.</summary>
    private sealed class NativeStrings : IDisposable
    {
        private readonly List<(nint Pointer, int Length)> _blocks = [];

        public byte* Add(string value)
        {
            int length = Encoding.UTF8.GetByteCount(value) + 1;
            byte* p = (byte*)NativeMemory.Alloc((nuint)length);
            int written = Encoding.UTF8.GetBytes(value, new Span<byte>(p, length));
            p[written] = 0;
            _blocks.Add(((nint)p, length));
            return p;
        }

        public byte** AddArray(IReadOnlyList<string> values)
        {
            int length = (values.Count + 1) * sizeof(nint);
            byte** array = (byte**)NativeMemory.AllocZeroed((nuint)length);
            _blocks.Add(((nint)array, length));
            for (int i = 0; i < values.Count; i++) array[i] = Add(values[i]);
            return array;
        }

        public void Dispose()
        {
            foreach (var (pointer, length) in _blocks)
            {
                NativeMemory.Clear((void*)pointer, (nuint)length);
                NativeMemory.Free((void*)pointer);
            }
            _blocks.Clear();
        }
    }
}
