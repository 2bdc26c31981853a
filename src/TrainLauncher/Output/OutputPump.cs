using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using TrainLauncher.Interop;

namespace TrainLauncher.Output;

/// <summary>
/// Reads the command's merged output pipe once, straight into a ring of recent output, and passes
/// each chunk on unchanged: to stdout (tee(2) from the pipe when stdout is a pipe, else write(2)
/// from the ring) and to the log sink, which writes out of the same ring or tees the pipe itself.
/// No line splitting, no copy of its own: one read(2) per chunk copies the bytes out of the kernel,
/// and the ring they land in is also what the termination message quotes. It runs on its own
/// thread and reads as soon as poll(2) says data is there, so a line reaches stdout as soon as it
/// is written. After the command exits, a daemon it left behind may still hold the pipe open:
/// <see cref="Drain"/> ends the pump once the pipe has been quiet briefly.
/// Failure policy: nothing escapes this thread. A log that fails is one warning and stdout goes
/// on; a pipe that cannot be read is one warning and ends the pump.
/// </summary>
internal sealed class OutputPump
{
    private const int MaxChunk = 256 << 10;
    private const int QuietMsAfterExit = 200;
    private const int IdlePollMs = 250;
    private const int HeldLineMs = 1000;

    private readonly ConsoleGate _console;
    private readonly ByteRing _ring;
    private readonly ILogger _log;
    private readonly ConsoleGate.ReadTeed _readBack;
    private ILogSink? _sink;
    private int _fd;
    private volatile bool _draining;

    /// <param name="ring">the sink's ring, or without a log file a ring of the pump's own</param>
    public OutputPump(ConsoleGate console, ILogSink? sink, ByteRing ring, ILogger log)
    {
        _console = console;
        _sink = sink;
        _ring = ring;
        _log = log;
        _readBack = ReadBack;
    }

    /// <summary>When the command last wrote anything (a <see cref="System.Diagnostics.Stopwatch"/>
    /// timestamp; the pump's creation before that): what the hang watchdog and /status read.</summary>
    public long LastOutputTimestamp => Volatile.Read(ref _lastOutput);

    private long _lastOutput = Stopwatch.GetTimestamp();

    public long Bytes => _ring.Total;

    /// <summary>Pumps until the command and everything holding the pipe's write end have closed
    /// it, then completes the log. The task never faults.</summary>
    public Task RunAsync(int outputFd)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try { Pump(outputFd); }
            catch (Exception e) { _log.RelayStopped(Reason(e)); }
            finally
            {
                Native.close(outputFd);
                done.SetResult();
            }
        }) { IsBackground = true, Name = "output-pump" };
        thread.Start();
        return done.Task;
    }

    /// <summary>The command has exited: stop at end of data or once the pipe is quiet.</summary>
    public void Drain() => _draining = true;

    private void Pump(int fd)
    {
        _fd = fd;
        Native.fcntl(fd, Native.F_SETFL, Native.fcntl(fd, Native.F_GETFL, 0) | Native.O_NONBLOCK);
        _console.BeginCommandOutput();
        try
        {
            long quietSince = 0;
            while (true)
            {
                // Never overwrite what the log has not taken yet.
                long room = _sink is null ? _ring.Capacity : _ring.Capacity - (_ring.Total - _sink.KeepFrom);
                int n = room > 0 ? ReadChunk((int)Math.Min(room, MaxChunk)) : -1;
                if (n == 0) break;
                if (n > 0)
                {
                    quietSince = 0;
                    Volatile.Write(ref _lastOutput, Stopwatch.GetTimestamp());
                    ToSink(static (_, sink, count) => { sink.Added(count); return 0; }, n);
                    continue;
                }
                if (room > 0)
                {
                    // The pipe is empty: the output went quiet.
                    if (quietSince == 0)
                    {
                        quietSince = Stopwatch.GetTimestamp();
                        ToSink(static (_, sink, _) => { sink.Flush(); return 0; }, 0);
                    }
                    else if (_draining && Stopwatch.GetElapsedTime(quietSince).TotalMilliseconds >= QuietMsAfterExit) break;
                    // A progress bar redrawn with \r never ends its line: launcher messages waiting
                    // for that newline (the hang warning) go out once the output has paused.
                    else if (Stopwatch.GetElapsedTime(quietSince).TotalMilliseconds >= HeldLineMs) _console.ReleaseHeld();
                }
                Wait(readable: room > 0);
            }
            ToSink(static (_, sink, _) => { sink.Complete(); return 0; }, 0);
        }
        finally
        {
            _console.EndCommandOutput();
        }
    }

    /// <returns>bytes read (and passed to stdout), 0 at end of data, -1 when the pipe is empty</returns>
    private unsafe int ReadChunk(int maxBytes)
    {
        var free = _ring.Free(maxBytes);
        int ahead = ToSink(static (pump, sink, max) => sink.TakeAhead(pump._fd, max), free.Length);
        int want = ahead > 0 ? ahead : free.Length;
        int teed = _console.TeeCommandOutput(_fd, want, _readBack);
        if (teed > 0) return teed;
        while (true)
        {
            nint n;
            fixed (byte* p = free) n = Native.read(_fd, p, want);
            if (n > 0)
            {
                _ring.Commit((int)n);
                _console.WriteCommandOutput(free[..(int)n]);
                return (int)n;
            }
            if (n == 0) return 0;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Native.EINTR) continue;
            if (errno == Native.EAGAIN) return -1;
            throw new IOException(Marshal.GetPInvokeErrorMessage(errno));
        }
    }

    /// <summary>Consumes the bytes just tee'd to stdout into the ring; returns the last one.</summary>
    private unsafe byte ReadBack(int count)
    {
        var free = _ring.Free(count);
        for (int done = 0; done < count;)
        {
            nint n;
            fixed (byte* p = free[done..]) n = Native.read(_fd, p, count - done);
            if (n > 0) { done += (int)n; continue; }
            int errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
            if (errno == Native.EINTR) continue;
            throw new IOException($"the pipe lost bytes it had just given to stdout: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        _ring.Commit(count);
        return free[count - 1];
    }

    private unsafe void Wait(bool readable)
    {
        var fds = stackalloc Native.PollFd[2];
        int count = 0;
        if (readable) fds[count++] = new Native.PollFd { Fd = _fd, Events = Native.POLLIN };
        int sinkFd = _sink?.WaitFd ?? -1;
        if (sinkFd >= 0) fds[count++] = new Native.PollFd { Fd = sinkFd, Events = Native.POLLOUT };
        int timeout = _draining ? QuietMsAfterExit : IdlePollMs;
        if (_sink?.WaitMs is >= 0 and var sinkMs) timeout = Math.Min(timeout, Math.Max(1, sinkMs));
        Native.poll(fds, (nuint)count, timeout);
        ToSink(static (_, sink, _) => { sink.Service(); return 0; }, 0);
    }

    /// <summary>One call into the log sink. The log may fail (disk full, a removed file, a tool
    /// gone wrong): one warning, then stdout goes on without it.</summary>
    private int ToSink(Func<OutputPump, ILogSink, int, int> call, int argument)
    {
        if (_sink is not { } sink) return 0;
        try
        {
            return call(this, sink, argument);
        }
        catch (Exception e)
        {
            _sink = null;
            _log.LogStopped(Reason(e));
            try { sink.Dispose(); }
            catch (Exception disposing) { _log.LogStopped(Reason(disposing)); }
            return 0;
        }
    }

    private static string Reason(Exception e) => e is IOException ? e.Message : $"{e.GetType().Name}: {e.Message}";
}
