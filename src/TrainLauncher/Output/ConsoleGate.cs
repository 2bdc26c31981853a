using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using TrainLauncher.Interop;

namespace TrainLauncher.Output;

/// <summary>
/// The launcher's stdout, shared by the command's bytes and the launcher's own messages. A
/// message never lands inside a line of the command's output: while the command's last byte
/// was not a newline, messages wait and go out after the next one (or after the output ends,
/// on a line of their own). A message never waits for stdout's reader either: it is queued, and
/// whoever holds stdout writes the queue when it can — so a stalled reader can hold up the
/// output pump (back-pressure on the command) but not the thread that logs a signal and starts
/// the SIGKILL timer. Failure policy: stdout must not stop the job — if it breaks (reader gone),
/// command output still reaches the log and the launcher warns once on stderr.
/// </summary>
internal sealed class ConsoleGate(int fd = 1)
{
    /// <summary>Beyond this many queued messages a caller writes (and waits) itself: memory stays bounded.</summary>
    private const int MaxQueued = 1000;

    private readonly Lock _lock = new();
    private readonly ConcurrentQueue<string> _pending = new();
    private volatile bool _atLineStart = true;
    private volatile bool _commandEnded = true;
    private bool _broken;
    private bool _canTee = true;

    public static ConsoleGate Stdout { get; } = new();

    /// <summary>How <see cref="TeeCommandOutput"/> reads back the bytes it put on stdout: exactly
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
        WriteQueuedIfFree();
    }

    /// <summary>
    /// When stdout is a pipe: tee(2) up to <paramref name="maxBytes"/> of the command's pipe to
    /// stdout (page references, no copy), then <paramref name="readBack"/> consumes the same bytes.
    /// Returns 0 — and the caller writes the bytes itself — when stdout is not a pipe (or the
    /// kernel has no tee), is full, is gone, or the command's pipe is empty.
    /// </summary>
    public int TeeCommandOutput(int pipeFd, int maxBytes, ReadTeed readBack)
    {
        if (!_canTee || _broken) return 0;
        int teed;
        lock (_lock)
        {
            nint n = Native.tee(pipeFd, fd, (nuint)maxBytes, Native.SPLICE_F_NONBLOCK);
            if (n <= 0)
            {
                int errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
                if (errno == Native.EPIPE) Broken(errno);
                else if (errno is not (0 or Native.EAGAIN or Native.EINTR)) _canTee = false; // EINVAL: not a pipe
                return 0;
            }
            teed = (int)n;
            CommandOutputWritten(readBack(teed));
        }
        WriteQueuedIfFree();
        return teed;
    }

    public void EndCommandOutput()
    {
        lock (_lock)
        {
            _commandEnded = true;
            WriteQueued();
        }
        WriteQueuedIfFree();
    }

    /// <summary>One launcher message; <paramref name="text"/> ends with a newline. Never waits for
    /// stdout unless <see cref="MaxQueued"/> messages are already waiting.</summary>
    public void WriteMessage(string text)
    {
        if (_pending.Count >= MaxQueued)
        {
            lock (_lock)
            {
                _pending.Enqueue(text);
                WriteQueued();
            }
            WriteQueuedIfFree();
            return;
        }
        _pending.Enqueue(text);
        WriteQueuedIfFree();
    }

    /// <summary>Writes what is still queued, waiting for stdout if it must: the launcher's last act.</summary>
    public void Flush()
    {
        lock (_lock) WriteQueued();
        WriteQueuedIfFree();
    }

    private void CommandOutputWritten(byte last)
    {
        _atLineStart = last == (byte)'\n';
        WriteQueued();
    }

    /// <summary>Whoever holds stdout writes the queue before letting go; a message queued just as
    /// it let go is picked up here by the next one through, or by its own writer.</summary>
    private void WriteQueuedIfFree()
    {
        while (!_pending.IsEmpty && (_atLineStart || _commandEnded) && _lock.TryEnter())
        {
            try { WriteQueued(); }
            finally { _lock.Exit(); }
        }
    }

    private void WriteQueued()
    {
        if (_pending.IsEmpty || (!_atLineStart && !_commandEnded)) return;
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
