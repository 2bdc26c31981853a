using Microsoft.Extensions.Logging;
using TrainLauncher.Launch;
using TrainLauncher.Tools;

namespace TrainLauncher.Output;

/// <summary>
/// The job log file (SPEC 3.7 and 4): written through `dls-pipe` when the platform has it,
/// directly otherwise. It holds the command's bytes exactly, plus only the
/// `App download error:` / `Log upload error:` texts.
/// </summary>
internal sealed class JobLog(string path, string? pipeTool, ToolRunner tools)
{
    /// <summary>Without a log file, the end of the output is kept here for the termination message.</summary>
    private readonly OutputTail? _tail = path.Length == 0 ? new OutputTail() : null;

    public string Path => path;

    /// <summary>Up to the last <paramref name="maxBytes"/> bytes of the log (or of the kept tail),
    /// and whether that is all of it; call after the run.</summary>
    public (byte[] Bytes, bool IsWhole) ReadTail(int maxBytes)
    {
        if (_tail is not null)
        {
            var kept = _tail.ToArray();
            return kept.Length > maxBytes ? (kept[^maxBytes..], false) : (kept, _tail.TotalBytes == kept.Length);
        }
        try
        {
            using var file = File.OpenHandle(path);
            long length = RandomAccess.GetLength(file);
            var tail = new byte[(int)Math.Min(maxBytes, length)];
            int read = RandomAccess.Read(file, tail, length - tail.Length);
            return (tail[..read], read == length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ([], true);
        }
    }

    /// <summary>Step 7: the log file, created empty so lines of an earlier run with the same task
    /// index never reappear.</summary>
    public static async Task<JobLog> CreateAsync(string path, string? pipeTool, ToolRunner tools)
    {
        var jobLog = new JobLog(path, pipeTool, tools);
        await jobLog.CreateFileAsync();
        return jobLog;
    }

    private async Task CreateFileAsync()
    {
        if (path.Length == 0) return;
        try
        {
            if (pipeTool is not null)
            {
                var result = await tools.RunAsync(pipeTool, [path, "create"], CancellationToken.None);
                if (!result.Succeeded)
                    throw LaunchFailure.Setup($"cannot create the job log {path}: dls-pipe create exited with status {result.ExitCode}: {result.Output}");
                return;
            }
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            using var file = File.Open(path, new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw LaunchFailure.Setup($"cannot create the job log {path} (--log-file): {e.Message}");
        }
    }

    public async Task<ILogSink> OpenSinkAsync(ILogger log)
    {
        if (_tail is not null) return _tail;
        if (pipeTool is not null)
        {
            try { return await PipeToolLogSink.StartAsync(pipeTool, path, log); }
            catch (Exception e) when (e is IOException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                log.PipeToolNotStarted(e.Message, path);
            }
        }
        return new FileLogSink(path);
    }

    /// <summary>`dls-pipe LOG append` with the text on stdin, or a direct append.</summary>
    public async Task AppendAsync(string text)
    {
        if (_tail is not null)
        {
            _tail.Write(System.Text.Encoding.UTF8.GetBytes(text));
            return;
        }
        if (pipeTool is not null)
        {
            var result = await tools.RunAsync(pipeTool, [path, "append"], CancellationToken.None, stdin: text);
            if (result.Succeeded) return;
        }
        await File.AppendAllTextAsync(path, text);
    }
}
