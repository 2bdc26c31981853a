using System.Diagnostics;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Supervision;

/// <summary>How the supervisor under test is started.</summary>
public enum Mode
{
    /// <summary>An ordinary child of the test (the launcher is a subreaper).</summary>
    Child,

    /// <summary>PID 1 of a new PID namespace: `unshare --pid --fork --mount-proc`.</summary>
    Pid1,
}

/// <summary>Starting a supervisor (the launcher, or tini in front of the same command) as a
/// child or as PID 1, finding its processes, and waiting for events in /proc.</summary>
internal static class Supervised
{
    public const string Tini = "/usr/bin/tini";

    /// <summary>The launcher, or tini in front of the same command, as a child or as PID 1.</summary>
    public static Process Start(LauncherRun run, string supervisor, Mode mode)
    {
        var info = run.StartInfo();
        if (supervisor == "tini")
        {
            var command = info.ArgumentList.SkipWhile(a => a != Repo.Python).ToList();
            info.ArgumentList.Clear();
            foreach (var a in (string[])(mode == Mode.Child ? ["-s", "-g", "--"] : ["-g", "--"])) info.ArgumentList.Add(a);
            foreach (var a in command) info.ArgumentList.Add(a);
            info.FileName = Tini;
        }
        if (mode == Mode.Pid1)
        {
            info.ArgumentList.Insert(0, info.FileName);
            foreach (var a in new[] { "--pid", "--fork", "--mount-proc" }.Reverse()) info.ArgumentList.Insert(0, a);
            info.FileName = "/usr/bin/unshare";
        }
        return Process.Start(info)!;
    }

    /// <summary>Whom to signal: the process itself, or under unshare its child (PID 1 inside).</summary>
    public static int SupervisorPid(Process process, Mode mode) => mode == Mode.Child ? process.Id : Children(process.Id)[0];

    /// <summary>The launcher proper: as PID 1 the init runs it as its child.</summary>
    public static int LauncherPid(Process process, Mode mode) => mode == Mode.Child ? process.Id : Children(SupervisorPid(process, mode))[0];

    /// <summary>Its children, from every thread's list: a child is listed under the thread that started it.</summary>
    public static List<int> Children(int pid) =>
        [.. Directory.GetDirectories($"/proc/{pid}/task").SelectMany(task => ReadOrEmpty(Path.Combine(task, "children"))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(int.Parse).Order()];

    private static string ReadOrEmpty(string path)
    {
        try { return File.ReadAllText(path); }
        catch (IOException) { return ""; } // the thread ended meanwhile
    }

    /// <summary>The state letter of /proc/PID/stat (R, S, T, Z...), or '-' when there is no such process.</summary>
    public static char State(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].Trim()[0]; }
        catch (IOException) { return '-'; }
    }

    public static bool IsAlive(int pid) => State(pid) is not ('-' or 'Z' or 'X');

    public static int ReadPid(string file) => int.Parse(File.ReadAllText(file));

    public static Task WaitForFileAsync(string path, Process process) => WaitUntilAsync(() => File.Exists(path), process);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails after 30 s or when <paramref name="process"/> exits first.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, Process? process, string? what = null)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (process is { HasExited: true }) throw new InvalidOperationException($"exited ({process.ExitCode}) before {what ?? "the condition held"}");
            try { await Task.Delay(10, deadline.Token); }
            catch (OperationCanceledException) { throw new TimeoutException($"30 s passed before {what ?? "the condition held"}"); }
        }
    }
}

internal static class Signals
{
    private static readonly string[] Names =
    [
        "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
        "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",
        "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
    ];

    public static int Number(string name) => Array.IndexOf(Names, name) is > 0 and var n ? n : throw new ArgumentException(name);

    public static string Name(int number) => Names[number];

    public static void Send(int pid, string name)
    {
        using var kill = Process.Start("/bin/kill", ["-s", name[3..], pid.ToString()]);
        kill.WaitForExit();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -s {name} {pid} failed");
    }
}
