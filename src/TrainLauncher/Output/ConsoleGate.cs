using System.Runtime.InteropServices;
using System.Text;
using TrainLauncher.Interop;

namespace TrainLauncher.Output;

/// <summary>
/// The launcher's stdout, shared by the command's bytes and the launcher's own messages. A
/// message never lands inside a line of the command's output: while the command's last byte
/// was not a newline, messages wait and go out after the next one (or, on a line of their own,
/// after the output ends or pauses for a second: a `\r` progress bar never ends its line). Failure policy: stdout must not stop the job — if it breaks
/// (reader gone), command output still reaches the log and the launcher warns once on stderr.
/// </summary>
internal sealed class ConsoleGate(int fd = 1)
{
    private readonly Lock _lock = new();
    private readonly Queue<string> _pending = new();
    private bool _atLineStart = true;
    private bool _commandEnded = true;
    private bool _broken;
    private bool _canTee = true;

    public static ConsoleGate Stdout { get; } = new();

    /// <summary>How <see cref="TeeCommandOutput"/> consumes the bytes it put on stdout: exactly
    /// <paramref name="count"/> bytes, returning the last one.</summary>
    public delegate byte ReadTeed(int count);

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
            CommandOutputWritten(chunk[^1]);
        }
    }

    /// <summary>
    /// When stdout is a pipe: tee(2) up to <paramref name="maxBytes"/> of the command's pipe to
    /// stdout (page references, no copy), then <paramref name="readBack"/> consumes the same bytes.
    /// Returns 0, and the caller reads and writes the bytes itself, when stdout is not a pipe
    /// (EINVAL: a file, a terminal, /dev/null, a kernel without tee), is full or gone, or the
    /// command's pipe is empty.
    /// </summary>
    public int TeeCommandOutput(int pipeFd, int maxBytes, ReadTeed readBack)
    {
        if (!_canTee || _broken) return 0;
        lock (_lock)
        {
            nint n = Native.tee(pipeFd, fd, (nuint)maxBytes, Native.SPLICE_F_NONBLOCK);
            if (n <= 0)
            {
                int errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
                if (errno == Native.EPIPE) Broken(errno);
                else if (errno is not (0 or Native.EAGAIN or Native.EINTR)) _canTee = false;
                return 0;
            }
            CommandOutputWritten(readBack((int)n));
            return (int)n;
        }
    }

    /// <summary>The output paused mid-line: waiting messages go out now, on a line of their own.</summary>
    public void ReleaseHeld()
    {
        lock (_lock)
            if (_pending.Count > 0) FlushPending();
    }

    private void CommandOutputWritten(byte last)
    {
        _atLineStart = last == (byte)'\n';
        if (_atLineStart && _pending.Count > 0) FlushPending();
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
        if (errno != 0) Broken(errno);
    }

    private void Broken(int errno)
    {
        _broken = true;
        var warning = $"[trainlauncher] warning: stdout is gone ({Marshal.GetPInvokeErrorMessage(errno)}); the job log still gets every byte\n";
        FdWriter.WriteAll(2, Encoding.UTF8.GetBytes(warning));
    }
}
