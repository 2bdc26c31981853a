using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using TrainLauncher.Interop;
using TrainLauncher.Supervision;

namespace TrainLauncher.Output;

/// <summary>
/// `dls-pipe LOG` with the command's bytes on its stdin: a pipe of our own, written without ever
/// blocking. Big chunks go in by tee(2) straight from the command's pipe (no copy); small ones
/// gather in the pump's ring and go in 64 KiB at a time. What the tool has not taken yet waits in
/// the ring, so stdout never waits for the tool; only when that backlog would fill the ring does
/// the pump stop reading (the command slows down, as for a slow stdout).
/// Failure policy: the tool may die or hang. Dead (EPIPE), or taking nothing for the stall limit
/// (30 s; killed then): the bytes it accepted but never wrote are still in the ring, the last
/// <see cref="RecoveryMargin"/> of them at least; the sink compares what it gave with the file's
/// growth, writes the missing tail itself and carries on with the file directly. The same check
/// runs when the tool exits at the end.
/// </summary>
internal sealed unsafe class PipeToolLogSink : ILogSink
{
    /// <summary>The recovery margin plus 1 MiB of backlog for a slow tool (whose own pipe holds
    /// another 1 MiB): 3 MiB (8 before) keeps the launcher's peak RSS within issue 13's 24 MiB.</summary>
    public const int RingSize = 3 << 20;
    /// <summary>Hidden, for tests: the stall limit in seconds instead of 30.</summary>

    private const int PipeSize = 1 << 20;
    /// <summary>Bytes already given to the tool that the ring keeps all the same: what its pipe
    /// (1 MiB) and a buffer of its own may hold when it dies.</summary>
    private const int RecoveryMargin = 2 << 20;
    private const int GatherSize = 64 << 10;
    /// <summary>After a read this big the next bytes are tee'd; after smaller ones they are gathered.</summary>
    private const int TeeMinimum = 16 << 10;
    private static readonly TimeSpan ExitLimit = TimeSpan.FromSeconds(10);

    private readonly string _logPath;
    private readonly long _initialLength;
    private readonly TimeSpan _stallLimit;
    private readonly ILogger _log;
    private readonly int _pid;
    private int _input;
    private long _sent;
    private long _waitingSince;
    private bool _teeWorks = true;
    private int _lastChunk;
    private bool _reaped;
    private FileLogSink? _takenOver;

    private PipeToolLogSink(string logPath, long initialLength, ByteRing ring, TimeSpan stallLimit, ILogger log, int pid, int input)
    {
        _logPath = logPath;
        _initialLength = initialLength;
        Ring = ring;
        _stallLimit = stallLimit;
        _log = log;
        _pid = pid;
        _input = input;
    }

    /// <exception cref="IOException">the pipe or the log file could not be set up</exception>
    /// <exception cref="SpawnException">the tool could not be started</exception>
    public static PipeToolLogSink Start(string toolPath, string logPath, IReadOnlyDictionary<string, string> environment,
        ByteRing ring, TimeSpan stallLimit, ILogger log)
    {
        long initialLength = new FileInfo(logPath).Length;
        int* fds = stackalloc int[2];
        if (Native.pipe2(fds, Native.O_CLOEXEC) != 0)
            throw new IOException($"cannot create a pipe for dls-pipe: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        Native.fcntl(fds[1], Native.F_SETPIPE_SZ, PipeSize); // best effort: the default still works
        Native.fcntl(fds[1], Native.F_SETFL, Native.fcntl(fds[1], Native.F_GETFL, 0) | Native.O_NONBLOCK);
        try
        {
            // Its own output would land inside the command's lines on stdout: it goes nowhere (as before).
            using var devNull = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Write);
            int pid = CommandSpawner.SpawnInGroup(toolPath, [toolPath, logPath], [.. environment], (int)devNull.DangerousGetHandle(), new ChildSetup(), inputFd: fds[0]);
            return new PipeToolLogSink(logPath, initialLength, ring, stallLimit, log, pid, fds[1]);
        }
        catch
        {
            Native.close(fds[1]);
            throw;
        }
        finally
        {
            Native.close(fds[0]);
        }
    }

    public ByteRing Ring { get; }

    public long KeepFrom => _takenOver?.KeepFrom ?? Math.Min(_sent, Ring.Total) - RecoveryMargin;

    public int WaitFd => _takenOver is null && _input >= 0 && _sent < Ring.Total ? _input : -1;

    public int WaitMs => _waitingSince == 0 ? -1
        : (int)Math.Max(0, (_stallLimit - Stopwatch.GetElapsedTime(_waitingSince)).TotalMilliseconds);

    public int TakeAhead(int pipeFd, int maxBytes)
    {
        if (_takenOver is not null || _input < 0) return 0;
        long ahead = _sent - Ring.Total;
        if (ahead > 0) return (int)Math.Min(ahead, maxBytes);
        if (ahead < 0 || !_teeWorks || _lastChunk < TeeMinimum) return 0;
        nint n = Native.tee(pipeFd, _input, (nuint)maxBytes, Native.SPLICE_F_NONBLOCK);
        if (n > 0)
        {
            _sent += n;
            _waitingSince = 0;
            return (int)n;
        }
        int errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
        // EAGAIN: the command's pipe is empty or the tool's is full; the read decides which.
        if (errno == Native.EINVAL) _teeWorks = false;
        else if (errno is not (0 or Native.EAGAIN or Native.EINTR)) Died(errno);
        return 0;
    }

    public void Added(int count)
    {
        _lastChunk = count;
        if (_takenOver is not null) _takenOver.Added(count);
        else if (Ring.Total - _sent >= GatherSize) Send();
    }

    public void Flush()
    {
        if (_takenOver is not null) _takenOver.Flush();
        else Send();
    }

    public void Service() => Flush();

    public void Complete()
    {
        // Whatever the tool has not taken yet, for as long as it keeps taking something.
        while (_takenOver is null && _input >= 0 && _sent < Ring.Total)
        {
            Send();
            if (WaitFd < 0) break;
            var poll = new Native.PollFd { Fd = _input, Events = Native.POLLOUT };
            Native.poll(&poll, 1, Math.Max(1, WaitMs));
        }
        if (_takenOver is null)
        {
            CloseInput();
            var exit = EndTool(_stallLimit, killFirst: false);
            if (exit is { ExitStatus: not 0 } failed) _log.PipeToolExited(failed.ExitStatus, _logPath);
            WriteMissing();
        }
        _takenOver?.Complete();
    }

    public void Dispose()
    {
        CloseInput();
        if (!_reaped) EndTool(ExitLimit, killFirst: false);
        _takenOver?.Dispose();
    }

    /// <summary>Gives the tool the bytes it has not had yet, as far as its pipe takes them now.</summary>
    private void Send()
    {
        while (_takenOver is null && _input >= 0 && _sent < Ring.Total)
        {
            var pending = Ring.Slice(_sent);
            nint n;
            fixed (byte* p = pending) n = Native.write(_input, p, pending.Length);
            if (n > 0)
            {
                _sent += n;
                _waitingSince = 0;
                continue;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Native.EINTR) continue;
            if (errno != Native.EAGAIN)
            {
                Died(errno);
                return;
            }
            if (_waitingSince == 0) _waitingSince = Stopwatch.GetTimestamp();
            else if (Stopwatch.GetElapsedTime(_waitingSince) >= _stallLimit) Hung();
            return;
        }
    }

    private void Died(int errno)
    {
        _log.PipeToolStopped(Marshal.GetPInvokeErrorMessage(errno), _logPath);
        CloseInput();
        EndTool(ExitLimit, killFirst: false);
        WriteMissing();
    }

    private void Hung()
    {
        _log.PipeToolHung(_stallLimit.TotalSeconds, _logPath);
        CloseInput();
        EndTool(ExitLimit, killFirst: true);
        WriteMissing();
    }

    /// <summary>The file has what the tool stored; the rest of what it was given comes from the ring,
    /// and the file is ours from here on.</summary>
    private void WriteMissing()
    {
        var file = new FileInfo(_logPath);
        if (!file.Exists) throw new IOException($"{_logPath} was removed or replaced while the command ran");
        long from = Math.Clamp(file.Length - _initialLength, 0, Ring.Total);
        if (from < Ring.Oldest)
        {
            _log.LogBytesLost(Ring.Oldest - from, _logPath);
            from = Ring.Oldest;
        }
        _takenOver = new FileLogSink(_logPath, Ring, from);
        _takenOver.Flush();
    }

    private void CloseInput()
    {
        if (_input < 0) return;
        Native.close(_input);
        _input = -1;
    }

    /// <summary>Waits for the tool (its input is closed), killing its group first or when it does
    /// not exit in time. Null when its status is unknown.</summary>
    private ChildExit? EndTool(TimeSpan limit, bool killFirst)
    {
        if (_reaped) return null;
        if (killFirst) CommandSupervisor.SignalGroup(_pid, Native.SIGKILL);
        var exit = Reap(limit);
        if (!_reaped)
        {
            if (!killFirst) _log.PipeToolHung(limit.TotalSeconds, _logPath);
            CommandSupervisor.SignalGroup(_pid, Native.SIGKILL);
            exit = Reap(ExitLimit);
        }
        return exit;
    }

    private ChildExit? Reap(TimeSpan limit)
    {
        long start = Stopwatch.GetTimestamp();
        int status;
        while (true)
        {
            int pid = Native.waitpid(_pid, &status, Native.WNOHANG);
            if (pid == _pid || (pid < 0 && Marshal.GetLastPInvokeError() != Native.EINTR))
            {
                _reaped = true;
                ChildRegistry.Release(_pid);
                return pid == _pid ? ChildExit.FromWaitStatus(status) : null;
            }
            if (Stopwatch.GetElapsedTime(start) >= limit) return null;
            Thread.Sleep(5);
        }
    }
}
