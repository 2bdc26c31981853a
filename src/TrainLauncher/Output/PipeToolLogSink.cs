using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using TrainLauncher.Interop;
using TrainLauncher.Supervision;

namespace TrainLauncher.Output;

/// <summary>
/// `dls-pipe LOG` with the command's bytes on its stdin: a pipe of our own, written without ever
/// blocking. Big chunks go in by tee(2) straight from the command's pipe and are then moved, not
/// read, into <see cref="KeptPipes"/> (<see cref="KeepAhead"/>): no copy through user memory.
/// Small ones (a line-buffered program's lines) are read into the pump's ring, gathered and
/// written 64 KiB at a time into a staging pipe, which is tee'd to the tool and then moved into
/// the kept pipes too. What the tool has not taken yet waits in the staging pipe and the ring, so
/// stdout never waits for the tool; only when both are full does the pump stop reading (the
/// command slows down, as for a slow stdout).
/// Failure policy: the tool may die or hang. Dead (EPIPE), or taking nothing for the stall limit
/// (30 s; killed then): the bytes it accepted but never wrote are still kept, the last
/// <see cref="RecoveryMargin"/> of them at least; the sink compares what it gave with the file's
/// growth, writes the missing tail itself and carries on with the file directly. The same check
/// runs when the tool exits at the end, and the kept bytes go back into the ring for the
/// termination message.
/// </summary>
internal sealed unsafe class PipeToolLogSink : ILogSink
{
    /// <summary>Gathers small chunks and holds 1 MiB of backlog for a slow tool beside the staging
    /// pipe's 1 MiB (and the tool's own 1 MiB pipe); the recovery margin lives in pipes.</summary>
    public const int RingSize = 1 << 20;

    private const int PipeSize = 1 << 20;
    /// <summary>Bytes already given to the tool that are kept all the same: what its pipe (1 MiB)
    /// and a buffer of its own may hold when it dies.</summary>
    private const int RecoveryMargin = 2 << 20;
    /// <summary>Pages moved in from the command's pipe may be partly filled (a 16 KiB write fills
    /// four and a bit): room for a fifth more, and for the eighth dropped at a time.</summary>
    private const int KeptSize = 3 << 20;
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
    /// <summary>The bytes given to the tool, the last <see cref="RecoveryMargin"/> at least, then
    /// (its tail) those staged; null once they went back to the ring.</summary>
    private KeptPipes? _given;
    private int _stageRead;
    private int _stageWrite;
    /// <summary>Stream offsets: the tool has [0, _sent); the staging pipe holds [_sent, _staged);
    /// the ring [_staged, Ring.Total). Tee'd ahead of the ring: _sent beyond Ring.Total.</summary>
    private long _sent;
    private long _staged;
    private long _waitingSince;
    private bool _teeWorks = true;
    private int _lastChunk;
    private bool _reaped;
    private FileLogSink? _takenOver;

    private PipeToolLogSink(string logPath, long initialLength, ByteRing ring, TimeSpan stallLimit, ILogger log, int pid, int input,
        KeptPipes given, int stageRead, int stageWrite)
    {
        _logPath = logPath;
        _initialLength = initialLength;
        Ring = ring;
        _stallLimit = stallLimit;
        _log = log;
        _pid = pid;
        _input = input;
        _given = given;
        _stageRead = stageRead;
        _stageWrite = stageWrite;
    }

    /// <exception cref="IOException">the pipes or the log file could not be set up</exception>
    /// <exception cref="SpawnException">the tool could not be started</exception>
    public static PipeToolLogSink Start(string toolPath, string logPath, IReadOnlyDictionary<string, string> environment,
        ByteRing ring, TimeSpan stallLimit, ILogger log)
    {
        long initialLength = new FileInfo(logPath).Length;
        int* input = stackalloc int[2];
        int* stage = stackalloc int[2];
        KeptPipes? given = null;
        input[1] = stage[0] = stage[1] = -1;
        try
        {
            given = new KeptPipes(KeptSize, ring.Total);
            OpenPipe(stage, "a staging pipe");
            OpenPipe(input, "dls-pipe's input");
            try
            {
                // Its own output would land inside the command's lines on stdout: it goes nowhere (as before).
                using var devNull = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Write);
                int pid = CommandSpawner.SpawnInGroup(toolPath, [toolPath, logPath], [.. environment], (int)devNull.DangerousGetHandle(), new ChildSetup(), inputFd: input[0]);
                return new PipeToolLogSink(logPath, initialLength, ring, stallLimit, log, pid, input[1], given, stage[0], stage[1]);
            }
            finally
            {
                Native.close(input[0]);
            }
        }
        catch
        {
            given?.Dispose();
            foreach (int fd in new[] { input[1], stage[0], stage[1] })
                if (fd >= 0) Native.close(fd);
            throw;
        }
    }

    /// <summary>A 1 MiB pipe (best effort: the default still works) whose write end never blocks.</summary>
    private static void OpenPipe(int* fds, string what)
    {
        if (Native.pipe2(fds, Native.O_CLOEXEC) != 0)
        {
            fds[0] = fds[1] = -1;
            throw new IOException($"cannot create {what}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
        Native.fcntl(fds[1], Native.F_SETPIPE_SZ, PipeSize);
        Native.fcntl(fds[1], Native.F_SETFL, Native.fcntl(fds[1], Native.F_GETFL, 0) | Native.O_NONBLOCK);
    }

    public ByteRing Ring { get; }

    public long KeepFrom => _takenOver?.KeepFrom ?? (_given is null ? Ring.Total : Math.Min(_staged, Ring.Total));

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

    public bool KeepAhead(int pipeFd, int count, bool consume)
    {
        // Only bytes its tool has, and only right after what is kept already.
        if (_takenOver is not null || _given is null || _sent - Ring.Total < count || _given.Total != Ring.Total) return false;
        if (consume) _given.Move(pipeFd, count);
        else _given.Clone(pipeFd, count);
        _staged = _given.Total;
        return true;
    }

    public void Added(int count)
    {
        _lastChunk = count;
        if (_takenOver is not null)
        {
            _takenOver.Added(count);
            return;
        }
        if (_given is null) return;
        // Bytes the tool already has (tee'd ahead) that came through the ring all the same.
        for (long given = Math.Min(_sent, Ring.Total); _given.Total < given;)
            _given.Write(Ring.Slice(_given.Total, (int)Math.Min(given - _given.Total, int.MaxValue)));
        _staged = Math.Max(_staged, _given.Total);
        if (Ring.Total - _staged >= GatherSize) Send();
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
        // The log failed: the kept bytes still serve the termination message.
        try { Unpipe(long.MaxValue, null); }
        finally
        {
            ClosePipes();
            _takenOver?.Dispose();
        }
    }

    /// <summary>Stages what the ring gathered and gives the tool what it has not had yet, as far
    /// as its pipe takes it now; what it took moves on to the kept pipes.</summary>
    private void Send()
    {
        while (_takenOver is null && _input >= 0 && _sent < Ring.Total)
        {
            Stage();
            nint n = _staged > _sent ? Native.tee(_stageRead, _input, (nuint)(_staged - _sent), Native.SPLICE_F_NONBLOCK) : 0;
            if (n > 0)
            {
                _given!.Move(_stageRead, (int)n);
                _sent += n;
                _waitingSince = 0;
                continue;
            }
            // EAGAIN (or nothing staged: the staging pipe is full): the tool's pipe is full.
            int errno = n < 0 ? Marshal.GetLastPInvokeError() : Native.EAGAIN;
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

    /// <summary>Copies the ring's gathered bytes into the staging pipe, as far as it takes them.</summary>
    private void Stage()
    {
        while (_staged < Ring.Total)
        {
            var pending = Ring.Slice(_staged);
            nint n;
            fixed (byte* p = pending) n = Native.write(_stageWrite, p, pending.Length);
            if (n > 0) { _staged += n; continue; }
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Native.EINTR) continue;
            if (errno == Native.EAGAIN) return;
            throw new IOException($"cannot stage output for dls-pipe: {Marshal.GetPInvokeErrorMessage(errno)}");
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

    /// <summary>The file has what the tool stored; the rest of what it was given, and what it was
    /// not given yet, comes from the kept pipes and the ring, and the file is ours from here on.</summary>
    private void WriteMissing()
    {
        var file = new FileInfo(_logPath);
        if (!file.Exists) throw new IOException($"{_logPath} was removed or replaced while the command ran");
        long from = Math.Clamp(file.Length - _initialLength, 0, Ring.Total);
        long oldest = _given?.Oldest ?? Ring.Oldest;
        if (from < oldest)
        {
            _log.LogBytesLost(oldest - from, _logPath);
            from = oldest;
        }
        _takenOver = new FileLogSink(_logPath, Ring, from);
        Unpipe(from, _takenOver);
        _takenOver.Flush();
    }

    /// <summary>Puts every kept byte back into the ring in stream order (the ring keeps the newest),
    /// handing each chunk from <paramref name="from"/> on to <paramref name="file"/> before the next
    /// one can overwrite it; the pipes are gone afterwards.</summary>
    private void Unpipe(long from, FileLogSink? file)
    {
        if (_given is null) return;
        // The ring's unstaged bytes come last: set aside (at most the ring) while the pipes refill it.
        var unstaged = Ring.Last(Ring.Total - Math.Min(_staged, Ring.Total));
        long end = Ring.Total;
        var given = _given;
        _given = null;
        Ring.Rewind(given.Oldest);
        while (true)
        {
            var free = Ring.Free(GatherSize);
            int n = given.ReadOldest(free);
            if (n == 0) break;
            Ring.Commit(n);
            if (Ring.Total > from) file?.Flush();
        }
        for (long staged = _staged - _sent; staged > 0;)
        {
            var free = Ring.Free((int)Math.Min(GatherSize, staged));
            nint n;
            fixed (byte* p = free) n = Native.read(_stageRead, p, free.Length);
            if (n <= 0)
            {
                int errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
                if (errno == Native.EINTR) continue;
                throw new IOException($"cannot read back staged output: {Marshal.GetPInvokeErrorMessage(errno)}");
            }
            Ring.Commit((int)n);
            staged -= n;
            if (Ring.Total > from) file?.Flush();
        }
        Ring.Append(unstaged);
        if (Ring.Total != end) throw new InvalidOperationException($"kept output lost its place: {Ring.Total} of {end} bytes");
        _staged = _sent = Math.Max(_sent, end);
        given.Dispose();
        ClosePipes();
    }

    private void ClosePipes()
    {
        _given?.Dispose();
        _given = null;
        if (_stageRead >= 0) Native.close(_stageRead);
        if (_stageWrite >= 0) Native.close(_stageWrite);
        _stageRead = _stageWrite = -1;
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
