using System.Runtime.InteropServices;
using System.Text;

namespace TrainLauncher.Output;

/// <summary>
/// The launcher's stdout, shared by the command's bytes and the launcher's own messages. A
/// message never lands inside a line of the command's output: while the command's last byte
/// was not a newline, messages wait and go out after the next one (or after the output ends,
/// on a line of their own). Failure policy: stdout must not stop the job — if it breaks
/// (reader gone), command output still reaches the log and the launcher warns once on stderr.
/// </summary>
internal sealed class ConsoleGate(int fd = 1)
{
    private readonly Lock _lock = new();
    private readonly Queue<string> _pending = new();
    private bool _atLineStart = true;
    private bool _commandEnded = true;
    private bool _broken;

    public static ConsoleGate Stdout { get; } = new();

    /// <summary>Command output follows: until <see cref="EndCommandOutput"/>, messages wait for newlines.</summary>
    public void BeginCommandOutput()
    {
        lock (_lock) _commandEnded = false;
    }

    public void WriteCommandOutput(ReadOnlySpan<byte> chunk)
    {
        if (chunk.IsEmpty) return;
        lock (_lock)
        {
            Write(chunk);
            _atLineStart = chunk[^1] == (byte)'\n';
            if (_atLineStart && _pending.Count > 0) FlushPending();
        }
    }

    public void EndCommandOutput()
    {
        lock (_lock)
        {
            _commandEnded = true;
            if (_pending.Count > 0) FlushPending();
        }
    }

    /// <summary>One launcher message; <paramref name="text"/> ends with a newline.</summary>
    public void WriteMessage(string text)
    {
        lock (_lock)
        {
            if (!_atLineStart && !_commandEnded) { _pending.Enqueue(text); return; }
            _pending.Enqueue(text);
            FlushPending();
        }
    }

    private void FlushPending()
    {
        if (!_atLineStart)
        {
            // The command's output ended mid-line: start the message on a line of its own.
            Write("\n"u8);
            _atLineStart = true;
        }
        while (_pending.TryDequeue(out var text)) Write(Encoding.UTF8.GetBytes(text));
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        if (_broken) return;
        int errno = FdWriter.WriteAll(fd, bytes);
        if (errno == 0) return;
        _broken = true;
        var warning = $"[trainlauncher] warning: stdout is gone ({Marshal.GetPInvokeErrorMessage(errno)}); the job log still gets every byte\n";
        FdWriter.WriteAll(2, Encoding.UTF8.GetBytes(warning));
    }
}
