using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace TrainLauncher.Tests.Support;

/// <summary>What a finished launcher run left: status, stdout bytes (kept in a file, so
/// hundreds of MB do not sit in the test's memory), and the job dir and log paths.</summary>
internal sealed record LauncherResult(int ExitCode, string StdoutFile, string LogFile, string JobDir)
{
    public string Stdout => File.ReadAllText(StdoutFile);
    public string Log => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";
    public string StdoutSha256 => Hashes.OfFile(StdoutFile);
    public string LogSha256 => Hashes.OfFile(LogFile);

    /// <summary>The launcher's own message lines.</summary>
    public IEnumerable<string> Messages => Stdout.Split('\n').Where(l => l.StartsWith("[trainlauncher]", StringComparison.Ordinal));
}

internal static class Hashes
{
    public static string OfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static string Of(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));
}

/// <summary>
/// Builds and starts a real launcher process: a clean environment (PATH with the stand-in
/// tools first, a home and job dir inside the test's temp dir, the log file there too), the
/// arguments given, stdout to a file (or to a reader of the test's own).
/// </summary>
internal sealed class LauncherRun
{
    private readonly TempDir _dir;
    private readonly List<string> _args = [];

    public LauncherRun(TempDir dir)
    {
        _dir = dir;
        Env["PATH"] = $"{Repo.StandInTools}:/usr/local/bin:/usr/bin:/bin";
        Env["HOME"] = dir["home"];
        Env["DLS_USER_HOME_DIR"] = dir["home"];
        Env["TRAINLAUNCHER_LOG_FILE"] = dir["logs/task.log"];
        Env["LANG"] = "C.UTF-8";
        // Many launchers run at once: no endpoint on the default port unless a test asks for one.
        Env["TRAINLAUNCHER_HEALTH_PORT"] = "0";
    }

    public Dictionary<string, string> Env { get; } = new(StringComparer.Ordinal);
    /// <summary>The launcher binary to run (another build, say the linux-arm64 one under qemu).</summary>
    public string Launcher { get; set; } = Repo.Launcher;
    public string LogFile => Env.GetValueOrDefault("TRAINLAUNCHER_LOG_FILE") ?? "";
    public string JobDir => Env.GetValueOrDefault("DLS_USER_JOB_DIR") ?? Path.Combine(Env["DLS_USER_HOME_DIR"], "user-job-dir");
    public string? WorkingDirectory { get; set; }

    /// <summary>Launcher options and the command, as on a command line.</summary>
    public LauncherRun Args(params string[] args)
    {
        _args.AddRange(args);
        return this;
    }

    /// <summary>Adds the dummy program and its arguments as the command.</summary>
    public LauncherRun Dummy(params string[] args) => Args([Repo.Python, Repo.Dummy, .. args]);

    public LauncherRun Set(string name, string value)
    {
        Env[name] = value;
        return this;
    }

    /// <param name="wrapper">A program and its arguments to put in front of the launcher
    /// (say <c>ip netns exec NS</c>); none: the launcher itself.</param>
    public ProcessStartInfo StartInfo(params string[] wrapper)
    {
        var info = new ProcessStartInfo(wrapper.Length > 0 ? wrapper[0] : Launcher)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = WorkingDirectory ?? _dir.Path,
        };
        info.Environment.Clear();
        foreach (var (k, v) in Env) info.Environment[k] = v;
        if (wrapper.Length > 0)
        {
            foreach (var w in wrapper[1..]) info.ArgumentList.Add(w);
            info.ArgumentList.Add(Launcher);
        }
        foreach (var a in _args) info.ArgumentList.Add(a);
        return info;
    }

    public System.Diagnostics.Process Start(params string[] wrapper) => System.Diagnostics.Process.Start(StartInfo(wrapper))!;

    /// <summary>Runs to the end, stdout into a file, stderr kept in memory (it is small).</summary>
    public async Task<LauncherResult> RunAsync(TimeSpan? timeout = null)
    {
        using var process = Start();
        return await CollectAsync(process, timeout);
    }

    /// <summary>Uid and gid of the unprivileged user <see cref="RunAsNobodyAsync"/> runs as.</summary>
    public const int Nobody = 65534;

    /// <summary>
    /// Runs to the end as uid/gid <see cref="Nobody"/> (setpriv): root reads and deletes
    /// everything, so "unreadable" needs another user. The home and log directories are made
    /// that user's first; give it anything else it must write with <see cref="GiveToNobody"/>.
    /// </summary>
    public async Task<LauncherResult> RunAsNobodyAsync(TimeSpan? timeout = null)
    {
        GiveToNobody(Env["DLS_USER_HOME_DIR"]);
        GiveToNobody(System.IO.Path.GetDirectoryName(LogFile)!);
        using var process = Start("setpriv", $"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups", "--");
        return await CollectAsync(process, timeout);
    }

    /// <summary>Creates the directory if needed and makes it (not its contents) <see cref="Nobody"/>'s.</summary>
    public static void GiveToNobody(string directory)
    {
        Directory.CreateDirectory(directory);
        using var chown = System.Diagnostics.Process.Start("chown", [$"{Nobody}:{Nobody}", directory])!;
        chown.WaitForExit();
        if (chown.ExitCode != 0) throw new InvalidOperationException($"chown {directory} failed");
    }

    public async Task<LauncherResult> CollectAsync(System.Diagnostics.Process process, TimeSpan? timeout = null)
    {
        process.StandardInput.Close();
        string stdoutFile = _dir[$"stdout-{process.Id}"];
        // Readable while it is written: a test may watch the launcher's lines as they come.
        await using (var file = new FileStream(stdoutFile, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0))
        {
            var copy = process.StandardOutput.BaseStream.CopyToAsync(file);
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"launcher did not finish; stderr: {await stderr}");
            }
            await copy;
            Stderr = await stderr;
        }
        return new LauncherResult(process.ExitCode, stdoutFile, LogFile, JobDir);
    }

    public string Stderr { get; private set; } = "";
}

internal static class Cipher
{
    /// <summary>The stand-in tools' "ciphertext" for a plaintext.</summary>
    public static string Encrypt(string plaintext) => "enc:" + Convert.ToBase64String(Encoding.UTF8.GetBytes(plaintext));
}
