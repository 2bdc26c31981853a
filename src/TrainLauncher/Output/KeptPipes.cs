using System.Runtime.InteropServices;
using TrainLauncher.Interop;

namespace TrainLauncher.Output;

/// <summary>
/// The newest bytes of a stream kept in private pipes instead of user memory: bytes spliced in
/// from another pipe move as page references (no copy), and the oldest fall out to /dev/null to
/// make room. One pipe when the kernel allows one that big (root with CAP_SYS_RESOURCE), else a
/// chain of pipes of at most /proc/sys/fs/pipe-max-size each, newest first. Read back only on
/// recovery (<see cref="ReadOldest"/>, which consumes). Failure policy: any error but "full" is
/// an <see cref="IOException"/>.
/// </summary>
internal sealed unsafe class KeptPipes : IDisposable
{
    private const int MaxPipes = 8;

    private readonly int[] _read;
    private readonly int[] _write;
    private readonly int[] _size;
    private readonly long[] _held;
    private readonly int _devNull;

    /// <exception cref="IOException">the pipes cannot hold <paramref name="capacity"/> bytes</exception>
    public KeptPipes(int capacity, long offset)
    {
        Total = offset;
        var read = new List<int>();
        var write = new List<int>();
        var size = new List<int>();
        try
        {
            int* fds = stackalloc int[2];
            for (long room = 0; room < capacity;)
            {
                if (read.Count == MaxPipes || Native.pipe2(fds, Native.O_CLOEXEC | Native.O_NONBLOCK) != 0)
                    throw new IOException($"cannot keep {capacity >> 20} MiB of output in pipes ({room >> 10} KiB)");
                read.Add(fds[0]);
                write.Add(fds[1]);
                // Beyond pipe-max-size (1 MiB by default) only with CAP_SYS_RESOURCE: then a chain.
                int want = capacity - (int)room;
                int got = Native.fcntl(fds[1], Native.F_SETPIPE_SZ, want);
                if (got < 0) got = Native.fcntl(fds[1], Native.F_SETPIPE_SZ, Math.Min(want, 1 << 20));
                if (got < 0) got = Native.fcntl(fds[1], Native.F_GETPIPE_SZ, 0);
                size.Add(got);
                room += got;
            }
            _devNull = Native.open("/dev/null", Native.O_WRONLY | Native.O_CLOEXEC, 0);
            if (_devNull < 0) throw new IOException($"cannot open /dev/null: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
        catch
        {
            foreach (int fd in read.Concat(write)) Native.close(fd);
            throw;
        }
        _read = [.. read];
        _write = [.. write];
        _size = [.. size];
        _held = new long[_read.Length];
    }

    /// <summary>The stream offset after the newest byte kept.</summary>
    public long Total { get; private set; }

    /// <summary>The stream offset of the oldest byte kept.</summary>
    public long Oldest => Total - _held.Sum();

    /// <summary>Moves the next <paramref name="count"/> bytes of <paramref name="pipeFd"/> in (they
    /// are there: a caller just tee'd them), without copying them.</summary>
    public void Move(int pipeFd, int count) => Into(count, pipeFd, Native.SPLICE_F_MOVE, clone: false);

    /// <summary>Clones the next <paramref name="count"/> bytes of <paramref name="pipeFd"/> in with
    /// tee(2); the caller consumes them from that pipe next.</summary>
    public void Clone(int pipeFd, int count) => Into(count, pipeFd, 0, clone: true);

    /// <summary>Copies bytes in (ones that came through user memory).</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* start = bytes)
        {
            for (int done = 0; done < bytes.Length;)
            {
                MakeRoom(0, bytes.Length - done);
                nint n = Native.write(_write[0], start + done, bytes.Length - done);
                if (n > 0) { Added(0, n); done += (int)n; Total += n; continue; }
                Full(0, n < 0 ? Marshal.GetLastPInvokeError() : Native.EAGAIN, bytes.Length - done);
            }
        }
    }

    /// <summary>Reads (and so removes) the oldest bytes kept, oldest pipe first; 0 when none are left.</summary>
    public int ReadOldest(Span<byte> into)
    {
        for (int i = _read.Length - 1; i >= 0; i--)
        {
            if (_held[i] == 0) continue;
            nint n;
            fixed (byte* p = into) n = Native.read(_read[i], p, (int)Math.Min(into.Length, _held[i]));
            if (n > 0) { _held[i] -= n; return (int)n; }
            int errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
            if (errno == Native.EINTR) { i++; continue; }
            throw new IOException($"cannot read back kept output: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        return 0;
    }

    public void Dispose()
    {
        foreach (int fd in _read.Concat(_write)) Native.close(fd);
        if (_devNull >= 0) Native.close(_devNull);
        Array.Clear(_held);
    }

    private void Into(int count, int pipeFd, uint flags, bool clone)
    {
        while (count > 0)
        {
            MakeRoom(0, count);
            nint n = clone
                ? Native.tee(pipeFd, _write[0], (nuint)count, Native.SPLICE_F_NONBLOCK)
                : Native.splice(pipeFd, null, _write[0], null, (nuint)count, flags | Native.SPLICE_F_NONBLOCK);
            if (n > 0) { Added(0, n); count -= (int)n; Total += n; continue; }
            Full(0, n < 0 ? Marshal.GetLastPInvokeError() : Native.EAGAIN, count);
        }
    }

    /// <summary>A pipe refused bytes: EAGAIN means its slots are full (pages only partly used hold
    /// fewer bytes than its size), so older bytes move on; anything else is an error.</summary>
    private void Full(int pipe, int errno, int wanted)
    {
        if (errno == Native.EINTR) return;
        if (errno != Native.EAGAIN || _held[pipe] == 0)
            throw new IOException($"cannot keep output in a pipe: {Marshal.GetPInvokeErrorMessage(errno)}");
        Shift(pipe, Math.Max(wanted, _size[pipe] / 8));
    }

    private void MakeRoom(int pipe, long count)
    {
        long over = _held[pipe] + count - _size[pipe];
        // In eighths of the pipe at least: fewer, bigger moves.
        if (over > 0) Shift(pipe, Math.Max(over, _size[pipe] / 8));
    }

    /// <summary>Moves the oldest <paramref name="count"/> bytes of a pipe on to the next older one,
    /// or out to /dev/null from the oldest.</summary>
    private void Shift(int pipe, long count)
    {
        count = Math.Min(count, _held[pipe]);
        bool last = pipe == _read.Length - 1;
        while (count > 0)
        {
            if (!last) MakeRoom(pipe + 1, count);
            nint n = Native.splice(_read[pipe], null, last ? _devNull : _write[pipe + 1], null, (nuint)count,
                Native.SPLICE_F_MOVE | Native.SPLICE_F_NONBLOCK);
            if (n > 0)
            {
                _held[pipe] -= n;
                count -= n;
                if (!last) Added(pipe + 1, n);
                continue;
            }
            int errno = n < 0 ? Marshal.GetLastPInvokeError() : Native.EAGAIN;
            if (errno == Native.EINTR) continue;
            if (last || errno != Native.EAGAIN)
                throw new IOException($"cannot pass kept output on: {Marshal.GetPInvokeErrorMessage(errno)}");
            Full(pipe + 1, errno, (int)count);
        }
    }

    private void Added(int pipe, nint count) => _held[pipe] += count;
}
