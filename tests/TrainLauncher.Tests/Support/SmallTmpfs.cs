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

    /// <summary>Writes a file until the disk is full: the next write fails with ENOSPC.</summary>
    public void Fill()
    {
        var block = new byte[64 << 10];
        // Unbuffered: the write that does not fit throws here, not in Dispose.
        using var filler = new FileStream(System.IO.Path.Combine(Path, "filler"), FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        try
        {
            while (true) filler.Write(block);
        }
        catch (IOException)
        {
            // Full; what did not fit is dropped.
        }
    }

    public void Dispose() => Run("umount", "-l", Path);

    private static void Run(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)}: {error}");
    }
}
