using System.Runtime.InteropServices;
using TrainLauncher.Interop;

namespace TrainLauncher.Output;

/// <summary>write(2) until every byte is taken: retries EINTR, waits out EAGAIN on a
/// non-blocking fd (a slow reader slows us down; it never makes us drop bytes).</summary>
internal static unsafe class FdWriter
{
    /// <returns>0 on success, else the errno that stopped the write.</returns>
    public static int WriteAll(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* start = data)
        {
            byte* p = start;
            nint left = data.Length;
            while (left > 0)
            {
                nint n = Native.write(fd, p, left);
                if (n >= 0) { p += n; left -= n; continue; }
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Native.EINTR) continue;
                if (errno == Native.EAGAIN) { WaitWritable(fd); continue; }
                return errno;
            }
        }
        return 0;
    }

    private static void WaitWritable(int fd)
    {
        var poll = new Native.PollFd { Fd = fd, Events = Native.POLLOUT };
        Native.poll(&poll, 1, 1000);
    }
}
