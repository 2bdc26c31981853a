using System.Runtime.InteropServices;
using System.Text;
using TrainLauncher.Interop;

namespace TrainLauncher.Supervision;

/// <summary>
/// Starts the user's command with posix_spawn: in a process group of its own (so signals can go
/// to the whole group, as torchrun does with its workers), with every signal set back to its
/// default and an empty mask (.NET ignores SIGPIPE, and an ignored signal would survive exec),
/// and with fd 1 and fd 2 on the same pipe, which merges the streams in write order as `2>&1`.
/// System.Diagnostics.Process can do neither a process group nor a shared pipe.
/// </summary>
internal static unsafe class CommandSpawner
{
    // Bigger than the 64 KiB default so a chatty command blocks less often on a slow reader.
    private const int PipeSize = 1 << 20;

    /// <exception cref="SpawnException">the OS refused to start the program</exception>
    public static SpawnedCommand Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<KeyValuePair<string, string>> environment)
    {
        int* fds = stackalloc int[2];
        if (Native.pipe2(fds, Native.O_CLOEXEC) != 0)
            throw new SpawnException(Marshal.GetLastPInvokeError(), "cannot create the output pipe");
        Native.fcntl(fds[1], Native.F_SETPIPE_SZ, PipeSize); // best effort: the default still works
        try
        {
            return new SpawnedCommand(SpawnInGroup(path, argv, environment, fds[1]), fds[0]);
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
    /// inherited when -1). Its pid is registered in <see cref="ChildRegistry"/> before the
    /// <see cref="OrphanReaper"/> may scan again, so only its own waiter reaps it; that waiter
    /// releases it.
    /// </summary>
    public static int SpawnInGroup(string path, IReadOnlyList<string> argv, IReadOnlyList<KeyValuePair<string, string>> environment, int outputFd)
    {
        using var start = ChildRegistry.Starting();
        var strings = new NativeStrings();
        const int opaque = 1024; // larger than glibc's posix_spawnattr_t (336) and file_actions_t (80)
        void* attr = NativeMemory.AllocZeroed(opaque);
        void* actions = NativeMemory.AllocZeroed(opaque);
        void* sigset = NativeMemory.AllocZeroed(opaque);
        try
        {
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

            byte* pathBytes = strings.Add(path);
            byte** args = strings.AddArray(argv);
            var pairs = new string[environment.Count];
            for (int i = 0; i < pairs.Length; i++) pairs[i] = environment[i].Key + "=" + environment[i].Value;
            byte** envp = strings.AddArray(pairs);

            int pid;
            int error = Native.posix_spawn(&pid, pathBytes, actions, attr, args, envp);
            if (error != 0) throw new SpawnException(error, $"cannot start {path}");
            start.Own(pid);
            return pid;
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
