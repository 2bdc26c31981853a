using System.ComponentModel;
using System.Text;
using Microsoft.Extensions.Logging;
using TrainLauncher.Launch;
using TrainLauncher.Supervision;
using TrainLauncher.Tools;

namespace TrainLauncher.Output;

/// <summary>
/// The job log file (SPEC 3.7 and 4): written through `dls-pipe` when the platform has it,
/// directly otherwise. It holds the command's bytes exactly, plus only the
/// `App download error:` / `Log upload error:` texts. The end of it is also kept in memory
/// (<see cref="Recent"/>): the termination message quotes that, so a full disk or a removed
/// file never changes what it shows.
/// </summary>
internal sealed class JobLog
{
    private readonly string _path;
    private readonly string? _pipeTool;
    private readonly ToolRunner _tools;
    private readonly int _tailBytes;
    private readonly TimeSpan _pipeStallLimit;

    private JobLog(string path, string? pipeTool, ToolRunner tools, int tailBytes, TimeSpan pipeStallLimit)
    {
        _path = path;
        _pipeTool = pipeTool;
        _tools = tools;
        _tailBytes = tailBytes;
        _pipeStallLimit = pipeStallLimit;
        Recent = NewRing(FileLogSink.RingSize);
    }

    public string Path => _path;

    /// <summary>The latest output and appended texts; the output pump reads into it.</summary>
    public ByteRing Recent { get; private set; }

    /// <summary>Up to the last <paramref name="maxBytes"/> bytes the log holds (or would hold, had
    /// it taken them), and whether that is all of it.</summary>
    public (byte[] Bytes, bool IsWhole) ReadTail(int maxBytes)
    {
        var tail = Recent.Last(maxBytes);
        return (tail, tail.Length == Recent.Total);
    }

    /// <summary>Step 7: the log file, created empty so lines of an earlier run with the same task
    /// index never reappear.</summary>
    /// <param name="tailBytes">how much of the end the termination message needs (<see cref="Reporting.TerminationMessage.TailBytesToRead"/>)</param>
    public static async Task<JobLog> CreateAsync(string path, string? pipeTool, ToolRunner tools, int tailBytes, TimeSpan pipeStallLimit)
    {
        var jobLog = new JobLog(path, pipeTool, tools, tailBytes, pipeStallLimit);
        await jobLog.CreateFileAsync();
        return jobLog;
    }

    private async Task CreateFileAsync()
    {
        if (_path.Length == 0) return;
        try
        {
            if (_pipeTool is not null)
            {
                var result = await _tools.RunAsync(_pipeTool, [_path, "create"], CancellationToken.None);
                if (!result.Succeeded)
                    throw LaunchFailure.Setup($"cannot create the job log {_path}: dls-pipe create exited with status {result.ExitCode}: {OneLine.Escape(result.Output)}");
                return;
            }
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(_path)!);
            using var file = File.Open(_path, new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw LaunchFailure.Setup($"cannot create the job log {_path} (--log-file): {e.Message}");
        }
    }

    /// <summary>The sink for the command's output, reading into a fresh <see cref="Recent"/> of the
    /// size it needs; null without a log file (the ring still keeps the end of the output).</summary>
    public ILogSink? OpenSink(ILogger log)
    {
        if (_path.Length == 0) return null;
        if (_pipeTool is not null)
        {
            try
            {
                var sink = PipeToolLogSink.Start(_pipeTool, _path, _tools.Environment, NewRing(PipeToolLogSink.RingSize), _pipeStallLimit, log);
                Recent = sink.Ring;
                return sink;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or SpawnException)
            {
                log.PipeToolNotStarted(e.Message, _path);
            }
        }
        var file = new FileLogSink(_path, NewRing(FileLogSink.RingSize), 0);
        Recent = file.Ring;
        return file;
    }

    /// <summary>`dls-pipe LOG append` with the text on stdin, or a direct append; a tool that
    /// hangs is ended after the stall limit (as during the run) and the file gets the text directly.</summary>
    /// <exception cref="IOException">the text could not be added to the file (a full disk)</exception>
    public async Task AppendAsync(string text, ILogger log)
    {
        // In memory first: the termination message shows it even when the disk cannot take it.
        Recent.Append(Encoding.UTF8.GetBytes(text));
        if (_path.Length == 0) return;
        if (_pipeTool is not null)
        {
            using var bound = new CancellationTokenSource(_pipeStallLimit);
            try
            {
                var result = await _tools.RunAsync(_pipeTool, [_path, "append"], bound.Token, stdin: text);
                if (result.Succeeded) return;
            }
            catch (OperationCanceledException) when (bound.IsCancellationRequested)
            {
                log.PipeToolHung(_pipeStallLimit.TotalSeconds, _path);
            }
            catch (Exception e) when (e is Win32Exception or InvalidOperationException)
            {
                // The tool is gone since the start: the file directly, as without it.
            }
        }
        await File.AppendAllTextAsync(_path, text);
    }

    /// <summary>Never smaller than the termination message's quote needs.</summary>
    private ByteRing NewRing(int size) => new(Math.Max(size, _tailBytes));
}
