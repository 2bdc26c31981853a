using CliWrap;
using Microsoft.Extensions.Logging;
using TrainLauncher.Supervision;

namespace TrainLauncher.Output;

/// <summary>
/// `dls-pipe LOG` with the command's bytes on its stdin. Failure policy: the pipe tool may
/// fail. If it dies, bytes it accepted but never wrote are lost from the pipe; so the sink
/// keeps the most recent bytes in a ring, compares what it sent with the file's growth, writes
/// the missing tail itself and carries on with the file directly. The same check runs when the
/// tool exits at the end.
/// </summary>
internal sealed class PipeToolLogSink : ILogSink
{
    private const int RingSize = 8 << 20;

    private readonly string _logPath;
    private readonly long _initialLength;
    private readonly ILogger _log;
    private readonly ByteRing _ring = new(RingSize);
    private readonly TaskCompletionSource _inputDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CommandTask<CommandResult> _tool;
    private readonly Stream _toolInput;
    private FileLogSink? _takenOver;

    private PipeToolLogSink(string logPath, ILogger log, CommandTask<CommandResult> tool, Stream toolInput, TaskCompletionSource inputDone)
    {
        _logPath = logPath;
        _initialLength = new FileInfo(logPath).Length;
        _log = log;
        _tool = tool;
        _toolInput = toolInput;
        _inputDone = inputDone;
    }

    public static async Task<PipeToolLogSink> StartAsync(string toolPath, string logPath, ILogger log)
    {
        var inputReady = new TaskCompletionSource<Stream>(TaskCreationOptions.RunContinuationsAsynchronously);
        var inputDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // CliWrap owns the process; we keep its stdin stream and write to it from the pump.
        var source = PipeSource.Create(async (stream, _) =>
        {
            inputReady.TrySetResult(stream);
            await inputDone.Task;
        });
        var tool = ChildRegistry.Start(Cli.Wrap(toolPath).WithArguments([logPath])
            .WithStandardInputPipe(source)
            .WithValidation(CommandResultValidation.None), c => c.ExecuteAsync());
        var input = await Task.WhenAny(inputReady.Task, tool.Task) == inputReady.Task
            ? inputReady.Task.Result
            : throw new IOException($"{toolPath} exited before reading any output");
        return new PipeToolLogSink(logPath, log, tool, input, inputDone);
    }

    public void Write(ReadOnlySpan<byte> chunk)
    {
        if (_takenOver is not null) { _takenOver.Write(chunk); return; }
        _ring.Append(chunk);
        try
        {
            _toolInput.Write(chunk);
        }
        catch (IOException e)
        {
            _log.PipeToolStopped(e.Message, _logPath);
            TakeOver();
        }
    }

    public void Flush() => _takenOver?.Flush();

    public async Task CompleteAsync()
    {
        if (_takenOver is not null) await _takenOver.CompleteAsync();
        else
        {
            try { await _toolInput.DisposeAsync(); } catch (IOException) { }
            _inputDone.TrySetResult();
            var result = await _tool;
            if (result.ExitCode != 0)
                _log.PipeToolExited(result.ExitCode, _logPath);
            TakeOver();
            _takenOver!.Flush();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _inputDone.TrySetResult();
        if (_takenOver is not null) await _takenOver.DisposeAsync();
    }

    /// <summary>Writes what the tool never stored, from the ring, then continues on the file.</summary>
    private void TakeOver()
    {
        _inputDone.TrySetResult();
        try { _tool.Task.Wait(TimeSpan.FromSeconds(10)); } catch (AggregateException) { }
        _takenOver = new FileLogSink(_logPath);
        long stored = new FileInfo(_logPath).Length - _initialLength;
        long missing = _ring.Total - stored;
        if (missing <= 0) return;
        if (missing > RingSize)
            _log.LogBytesLost(missing - RingSize, _logPath);
        var (first, second) = _ring.Last(missing);
        _takenOver.Write(first.Span);
        _takenOver.Write(second.Span);
    }
}
