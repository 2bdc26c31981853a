using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Text;
using CliWrap;
using CliWrap.Builders;
using TrainLauncher.Interop;

namespace TrainLauncher.Supervision;

/// <summary>
/// Every child of the launcher starts as this same binary in a mode of its own, which sets up
/// what only the child itself can set and then execs the real program (the role of the code
/// between fork and exec in a shell; posix_spawn and .NET's Process have no such hook, and no
/// managed code may run in a vfork child). In order: the terminal's foreground group (SIGTTOU
/// blocked meanwhile: asked from the background, it would stop us), PR_SET_PDEATHSIG (then a
/// check that the launcher did not die just before), the core limit, every signal back to its
/// default and an empty mask (the launcher blocks and ignores some; both would survive exec),
/// then execv. A script without "#!" (ENOEXEC) is run by /bin/sh, as shells and execvp do.
/// A failed exec reports its errno on a close-on-exec pipe, so the launcher still tells "not
/// found" (127) from "cannot execute" (126); once exec succeeds the pipe just closes.
/// </summary>
internal static unsafe class ExecTrampoline
{
    private const string Marker = "--exec-child";
    private const string Unused = "-";

    /// <summary>This binary, even if its file was replaced or removed meanwhile.</summary>
    public const string Self = "/proc/self/exe";

    public static bool IsRequested(string[] args) => args.Length > 0 && args[0] == Marker;

    /// <summary>argv for <see cref="Self"/> that runs <paramref name="argv"/> (argv[0] included) from <paramref name="path"/>.</summary>
    public static string[] Arguments(ChildSetup setup, int errorFd, string path, IReadOnlyList<string> argv)
    {
        string flags = (setup.DieWithLauncher ? "p" : "") + (setup.TakeTerminal ? "t" : "");
        string core = setup.RestoreCoreLimit && CoreDumps.StartLimit is { } limit ? limit.ToString(System.Globalization.CultureInfo.InvariantCulture) : Unused;
        return [Self, Marker, flags.Length > 0 ? flags : Unused, errorFd >= 0 ? $"{errorFd}" : Unused, $"{Native.getpid()}", core, path, .. argv];
    }

    /// <summary>False once this binary failed to exec itself (ENOEXEC: an arm64 launcher under
    /// qemu-user without binfmt_misc, as in the tests): children then start directly.</summary>
    public static bool Usable => Volatile.Read(ref _unusable) == 0;

    private static int _unusable;

    public static void SelfExecFailed()
    {
        if (Interlocked.Exchange(ref _unusable, 1) != 0) return;
        WriteLine("warning", $"this binary cannot exec itself ({Marshal.GetPInvokeErrorMessage(Native.ENOEXEC)}; emulated?): children start directly, " +
            "so the command gets no PR_SET_PDEATHSIG and the dls-* tools inherit the launcher's blocked signals");
    }

    /// <summary>A platform tool through CliWrap: through this binary for a clean signal state and
    /// nothing else (no PR_SET_PDEATHSIG: .NET starts it from a pool thread that may end any time).</summary>
    public static CommandTask<T> Execute<T>(Command command, Func<Command, CommandTask<T>> execute)
    {
        if (Usable)
        {
            string prefix = new ArgumentsBuilder().Add(Arguments(new ChildSetup(), -1, command.TargetFilePath, [command.TargetFilePath])[1..]).Build();
            try
            {
                return execute(command.WithTargetFile(Self).WithArguments(command.Arguments.Length > 0 ? $"{prefix} {command.Arguments}" : prefix));
            }
            catch (Win32Exception e) when (e.NativeErrorCode == Native.ENOEXEC)
            {
                SelfExecFailed(); // the tool's own ENOEXEC would come from inside the trampoline
            }
        }
        return execute(command);
    }

    /// <summary>Runs in the child: never returns when the exec succeeds.</summary>
    public static int Run(string[] args)
    {
        if (args.Length < 7)
        {
            WriteLine("error", $"{Marker} is the launcher's internal way to start a child; see 'trainlauncher --help'");
            return 125;
        }
        string flags = args[1], errorFd = args[2], parent = args[3], core = args[4], path = args[5];
        string[] argv = args[6..];
        // Built first: after the reset below, no allocation or other managed work should be left to do.
        byte* program = NativeString(path);
        byte** programArgv = NativeArray(argv);
        byte* shell = NativeString("/bin/sh");
        byte** shellArgv = NativeArray(["/bin/sh", path, .. argv[1..]]);

        if (flags.Contains('t')) TakeTerminal();
        if (flags.Contains('p'))
        {
            Native.prctl(Native.PR_SET_PDEATHSIG, Native.SIGKILL, 0, 0, 0);
            if ($"{Native.getppid()}" != parent) Native._exit(128 + Native.SIGKILL); // the launcher is already gone
        }
        if (core != Unused && ulong.TryParse(core, out ulong limit)) SetCoreLimit(limit);
        int fd = errorFd != Unused && int.TryParse(errorFd, out int number) ? number : -1;
        if (fd >= 0) Native.fcntl(fd, Native.F_SETFD, Native.FD_CLOEXEC);
        ResetSignals();

        Native.execv(program, programArgv);
        int errno = Marshal.GetLastPInvokeError();
        if (errno == Native.ENOEXEC)
        {
            Native.execv(shell, shellArgv);
            if (Marshal.GetLastPInvokeError() != Native.ENOENT) errno = Marshal.GetLastPInvokeError();
        }
        if (fd >= 0) Native.write(fd, (byte*)&errno, sizeof(int));
        else WriteLine("error", $"cannot start {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        Native._exit(errno == Native.ENOENT ? 127 : 126);
        return 126;
    }

    private static void TakeTerminal()
    {
        byte* set = stackalloc byte[Native.SigsetSize];
        Native.sigemptyset(set);
        Native.sigaddset(set, SignalHub.SIGTTOU);
        Native.sigprocmask(Native.SIG_BLOCK, set, null);
        Native.tcsetpgrp(0, Native.getpgrp());
    }

    private static void SetCoreLimit(ulong soft)
    {
        Native.RLimit limit;
        if (Native.getrlimit(Native.RLIMIT_CORE, &limit) != 0) return;
        limit.Current = Math.Min(soft, limit.Maximum);
        Native.setrlimit(Native.RLIMIT_CORE, &limit);
    }

    private static void ResetSignals()
    {
        for (int signal = 1; signal <= 31; signal++)
            if (signal is not (Native.SIGKILL or Native.SIGSTOP)) Native.signal(signal, Native.SIG_DFL);
        byte* empty = stackalloc byte[Native.SigsetSize];
        Native.sigemptyset(empty);
        Native.sigprocmask(Native.SIG_SETMASK, empty, null);
    }

    private static byte* NativeString(string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        byte* p = (byte*)NativeMemory.Alloc((nuint)length + 1);
        Encoding.UTF8.GetBytes(value, new Span<byte>(p, length));
        p[length] = 0;
        return p;
    }

    private static byte** NativeArray(IReadOnlyList<string> values)
    {
        byte** array = (byte**)NativeMemory.AllocZeroed((nuint)(values.Count + 1), (nuint)sizeof(nint));
        for (int i = 0; i < values.Count; i++) array[i] = NativeString(values[i]);
        return array;
    }

    private static void WriteLine(string level, string text)
    {
        var bytes = Encoding.UTF8.GetBytes($"[trainlauncher] {level}: {text}\n");
        fixed (byte* p = bytes) Native.write(2, p, bytes.Length);
    }
}
