using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using TrainLauncher.Interop;

namespace TrainLauncher.Output;

/// <summary>
/// Moves one worker's output, on a thread of its own, from its pipe to the merged pipe of
/// <see cref="WorkerOutput"/> (whole lines, prefixed when asked) and byte-exactly to its
/// per-worker log. It reads as soon as poll(2) says data is there and writes the merged pipe
/// blocking: a slow reader slows the worker down, it never loses a byte. Failure policy as
/// <see cref="OutputPump"/>'s: a log that fails is one warning and the relay goes on; a pipe
/// that cannot be read is one warning and ends the relay.
/// </summary>
internal sealed unsafe class WorkerRelay
{
    private const int MaxChunk = 64 << 10;
    private const int QuietMsAfterExit = 200;
    private const int IdlePollMs = 250;
    private const int RestOfLineMs = 20;
    private const int LogMode = 0x1A4; // 0644

    private readonly WorkerOutput _output;
    private readonly int _rank;
    private readonly int _fd;
    private readonly string? _logPath;
    private readonly ILogger _log;
    /// <summary>An unfinished line held back (below <see cref="MaxChunk"/>), then room for one read.</summary>
    private readonly byte[] _buffer = new byte[2 * MaxChunk];
    private int _held;
    /// <summary>When the pipe first ran dry under the held line (a timestamp; 0: not yet).</summary>
    private long _heldSince;
    private int _logFd = -1;
    private long _bytes;

    /// <summary>Takes ownership of <paramref name="readFd"/>; creates (truncates) the per-worker log.</summary>
    public WorkerRelay(WorkerOutput output, int globalRank, int readFd, string? logPath, bool prefix, ILogger log)
    {
        _output = output;
        _rank = globalRank;
        _fd = readFd;
        _logPath = logPath;
        _log = log;
        if (prefix)
        {
            Prefixer = new LinePrefixer(globalRank);
            PrefixBuffer = new byte[2 * MaxChunk + 4096]; // one write for a chunk of typical lines
        }
        if (logPath is not null) OpenLog(logPath);
    }

    /// <summary>Null without prefixes.</summary>
    public LinePrefixer? Prefixer { get; }

    /// <summary>Where <see cref="WorkerOutput"/> builds this worker's prefixed chunks (reused).</summary>
    public byte[]? PrefixBuffer { get; }

    /// <summary>Bytes the worker wrote (without prefixes).</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    public void Start(string name) =>
        new Thread(Run) { IsBackground = true, Name = name }.Start();

    private void Run()
    {
        try { Pump(); }
        catch (Exception e) { _log.WorkerRelayStopped(_rank, OneLine.Escape(e is IOException ? e.Message : $"{e.GetType().Name}: {e.Message}")); }
        finally
        {
            PassOnHeld(); // what the log has already: a read error does not take it from the merged output
            Native.close(_fd);
            if (_logFd >= 0) Native.close(_logFd);
            _output.RelayEnded();
        }
    }

    private void Pump()
    {
        Native.fcntl(_fd, Native.F_SETFL, Native.fcntl(_fd, Native.F_GETFL, 0) | Native.O_NONBLOCK);
        long quietSince = 0;
        while (true)
        {
            int n = Read();
            if (n == 0) return;
            if (n > 0)
            {
                quietSince = 0;
                Interlocked.Add(ref _bytes, n);
                ToLog(_buffer.AsSpan(_held, n));
                PassOnLines(n);
                continue;
            }
            if (_held > 0 && !_output.Stopping)
            {
                // The pipe ran dry mid-line: the rest of a write still being copied in (the
                // worker was waiting for room) is a moment away; a prompt or a line printed a
                // piece at a time is not, and waits no longer than that moment in all.
                if (_heldSince == 0) _heldSince = Stopwatch.GetTimestamp();
                int left = RestOfLineMs - (int)Stopwatch.GetElapsedTime(_heldSince).TotalMilliseconds;
                if (left > 0)
                {
                    Wait(left);
                    continue;
                }
            }
            PassOnHeld();
            if (_output.Stopping) return;
            if (quietSince == 0) quietSince = Stopwatch.GetTimestamp();
            else if (_output.Draining && Stopwatch.GetElapsedTime(quietSince).TotalMilliseconds >= QuietMsAfterExit) return;
            Wait(_output.Draining ? QuietMsAfterExit : IdlePollMs);
        }
    }

    private void Wait(int timeoutMs)
    {
        var poll = new Native.PollFd { Fd = _fd, Events = Native.POLLIN };
        Native.poll(&poll, 1, timeoutMs);
    }

    /// <summary>Passes on the complete lines among the held bytes and the <paramref name="read"/>
    /// just read after them, and holds the unfinished last line for the next read: a read that
    /// ends mid-line (the pipe held more than one read takes) then never lets another worker's
    /// bytes into that line. A line longer than one read is passed on in pieces.</summary>
    private void PassOnLines(int read)
    {
        int total = _held + read;
        int lastNewline = _buffer.AsSpan(_held, read).LastIndexOf((byte)'\n');
        if (lastNewline < 0)
        {
            _held = total;
            if (_held >= MaxChunk) PassOnHeld();
            return;
        }
        int complete = _held + lastNewline + 1;
        _output.Write(this, _buffer.AsSpan(0, complete));
        _buffer.AsSpan(complete, total - complete).CopyTo(_buffer);
        _held = total - complete;
        _heldSince = 0; // a new unfinished line
    }

    private void PassOnHeld()
    {
        if (_held == 0) return;
        _output.Write(this, _buffer.AsSpan(0, _held));
        _held = 0;
        _heldSince = 0;
    }

    /// <returns>bytes read (after the held ones), 0 at end of data, -1 when the pipe is empty</returns>
    private int Read()
    {
        while (true)
        {
            nint n;
            fixed (byte* p = &_buffer[_held]) n = Native.read(_fd, p, MaxChunk);
            if (n >= 0) return (int)n;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Native.EINTR) continue;
            if (errno == Native.EAGAIN) return -1;
            throw new IOException($"cannot read the worker's output: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
    }

    private void OpenLog(string path)
    {
        // O_NONBLOCK: a FIFO put in the log's place fails (ENXIO) instead of waiting for a reader.
        _logFd = Native.open(path, Native.O_WRONLY | Native.O_CREAT | Native.O_TRUNC | Native.O_CLOEXEC | Native.O_NONBLOCK, LogMode);
        if (_logFd < 0) LogFailed("cannot create it", Marshal.GetLastPInvokeError());
    }

    private void ToLog(ReadOnlySpan<byte> chunk)
    {
        if (_logFd < 0) return;
        int errno = FdWriter.WriteAll(_logFd, chunk);
        if (errno == 0) return;
        Native.close(_logFd);
        _logFd = -1;
        LogFailed("cannot write it", errno);
    }

    private void LogFailed(string what, int errno) =>
        _log.WorkerLogStopped(_rank, OneLine.Escape(_logPath), $"{what}: {Marshal.GetPInvokeErrorMessage(errno)}");
}
