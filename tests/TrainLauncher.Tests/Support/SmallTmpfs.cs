using System.Diagnostics;

namespace TrainLauncher.Tests.Support;

/// <summary>A real, tiny tmpfs (`mount -t tmpfs -o size=...`): a disk that fills up.</summary>
internal sealed class SmallTmpfs : IDisposable
{
    public SmallTmpfs(string path, string size = "1m")
    {
        Path = path;
        Directory.CreateDirectory(path);
        Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", path);
    }

    public string Path { get; }

    public void Dispose() => Run("umount", "-l", Path);

    private static void Run(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)}: {error}");
    }
}
