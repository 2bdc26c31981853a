using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using TrainLauncher.Interop;
using TrainLauncher.Supervision;

namespace TrainLauncher.Output;

/// <summary>
/// Reads the command's merged output pipe once and writes each chunk, unchanged, to stdout
/// and to the log sink — no tailing of a file, no line splitting, one reused buffer. It runs
/// on its own thread and reads as soon as poll(2) says data is there, so a line reaches stdout
/// as soon as it is written. After the command exits, a daemon it left behind may still hold
/// the pipe open: <see cref="Drain"/> ends the pump once the pipe has been quiet briefly.
/// </summary>
internal sealed class OutputPump(ConsoleGate console, ILogSink sink, ILogger log)
{
    private const int BufferSize = 256 << 10;
    private const int QuietMsAfterExit = 200;
    private volatile bool _draining;

    public long Bytes { get; private set; }

    /// <summary>When the command last wrote anything (a <see cref="System.Diagnostics.Stopwatch"/>
    /// timestamp; the pump's creation before that): what the hang watchdog and /status read.</summary>
    public long LastOutputTimestamp => Volatile.Read(ref _lastOutput);

    private long _lastOutput = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>Pumps until the command and everything holding the pipe's write end have closed it.</summary>
    public Task RunAsync(int outputFd)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try { Pump(outputFd); done.SetResult(); }
            catch (Exception e) { done.SetException(e); }
            finally { Native.close(outputFd); }
        }) { IsBackground = true, Name = "output-pump" };
        thread.Start();
        return done.Task;
    }

    /// <summary>The command has exited: stop at end of data or once the pipe is quiet.</summary>
    public void Drain() => _draining = true;

    private unsafe void Pump(int fd)
    {
        Native.fcntl(fd, Native.F_SETFL, Native.fcntl(fd, Native.F_GETFL, 0) | Native.O_NONBLOCK);
        var buffer = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
        bool logBroken = false;
        console.BeginCommandOutput();
        try
        {
            fixed (byte* p = buffer)
            {
                while (true)
                {
                    nint n = Native.read(fd, p, BufferSize);
                    if (n == 0) break;
                    if (n < 0)
                    {
                        int errno = Marshal.GetLastPInvokeError();
                        if (errno == Native.EINTR) continue;
                        if (errno == Native.EAGAIN)
                        {
                            if (!logBroken) logBroken = !TryLog(static (sink, _) => sink.Flush(), default);
                            if (!WaitReadable(fd) && _draining) break;
                            continue;
                        }
                        throw new IOException($"cannot read the command's output: {Marshal.GetPInvokeErrorMessage(errno)}");
                    }
                    var chunk = new ReadOnlySpan<byte>(p, (int)n);
                    console.WriteCommandOutput(chunk);
                    if (!logBroken) logBroken = !TryLog(static (sink, bytes) => sink.Write(bytes), chunk);
                    Bytes += n;
                    Volatile.Write(ref _lastOutput, System.Diagnostics.Stopwatch.GetTimestamp());
                }
            }
        }
        finally
        {
            console.EndCommandOutput();
        }
    }

    private delegate void SinkAction(ILogSink sink, ReadOnlySpan<byte> chunk);

    /// <summary>The log may fail (disk full, removed mount): stdout goes on, with one warning.</summary>
    private bool TryLog(SinkAction action, ReadOnlySpan<byte> chunk)
    {
        try
        {
            action(sink, chunk);
            return true;
        }
        catch (IOException e)
        {
            log.LogStopped(e.Message);
            return false;
        }
    }

    /// <returns>false when nothing arrived within the quiet period while draining.</returns>
    private unsafe bool WaitReadable(int fd)
    {
        var poll = new Native.PollFd { Fd = fd, Events = Native.POLLIN };
        int ready = Native.poll(&poll, 1, _draining ? QuietMsAfterExit : 250);
        return ready != 0;
    }
}
