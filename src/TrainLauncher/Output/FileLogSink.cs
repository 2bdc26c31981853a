using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using TrainLauncher.Interop;

namespace TrainLauncher.Output;

/// <summary>
/// Appends to the log file directly (no pipe tool, or after it died or hung). Small chunks — a
/// line-buffered program gives one per line — are not copied anywhere: they stay in the pump's
/// ring and go to the file in one write(2) once 64 KiB are pending or the output goes quiet, so
/// the file costs one write per 64 KiB instead of one per line; stdout still gets every chunk
/// at once.
/// </summary>
internal sealed class FileLogSink : ILogSink
{
    /// <summary>Ring size when the file is the sink from the start: four gathers, so reading never waits for the file.</summary>
    public const int RingSize = 256 << 10;
    private const int GatherSize = 64 << 10;

    private readonly SafeFileHandle _file;
    private long _written;

    /// <param name="from">the stream offset of the first byte the file still lacks (kept in <paramref name="ring"/>)</param>
    public FileLogSink(string path, ByteRing ring, long from)
    {
        Ring = ring;
        _written = from;
        _file = File.OpenHandle(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        // The handle's own offset starts at 0 (.NET tracks positions itself); raw write(2)
        // needs O_APPEND to land after what dls-pipe or an earlier writer stored.
        int fd = (int)_file.DangerousGetHandle();
        Native.fcntl(fd, Native.F_SETFL, Native.fcntl(fd, Native.F_GETFL, 0) | Native.O_APPEND);
    }

    public ByteRing Ring { get; }
    public long KeepFrom => _written;
    public int WaitFd => -1;
    public int WaitMs => -1;

    public int TakeAhead(int pipeFd, int maxBytes) => 0;

    public void Added(int count)
    {
        if (Ring.Total - _written >= GatherSize) Flush();
    }

    public void Flush()
    {
        while (_written < Ring.Total)
        {
            var pending = Ring.Slice(_written);
            int errno = FdWriter.WriteAll((int)_file.DangerousGetHandle(), pending);
            if (errno != 0) throw new IOException($"cannot write the job log: {Marshal.GetPInvokeErrorMessage(errno)}");
            _written += pending.Length;
        }
    }

    public void Service() { }

    public void Complete() => Flush();

    public void Dispose() => _file.Dispose();
}
