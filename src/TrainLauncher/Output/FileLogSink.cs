using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using TrainLauncher.Interop;

namespace TrainLauncher.Output;

/// <summary>
/// Appends to the log file directly (no pipe tool, or after it died). Small chunks — a
/// line-buffered program gives one per line — are gathered into one reused buffer and written
/// when it fills or when the output goes quiet, so the file costs one write(2) per 64 KiB
/// instead of one per line; stdout still gets every chunk at once.
/// </summary>
internal sealed class FileLogSink : ILogSink
{
    private const int GatherSize = 64 << 10;
    private readonly SafeFileHandle _file;
    private readonly byte[] _gathered = GC.AllocateUninitializedArray<byte>(GatherSize);
    private int _held;

    public FileLogSink(string path)
    {
        _file = File.OpenHandle(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        // The handle's own offset starts at 0 (.NET tracks positions itself); raw write(2)
        // needs O_APPEND to land after what dls-pipe or an earlier writer stored.
        int fd = (int)_file.DangerousGetHandle();
        Native.fcntl(fd, Native.F_SETFL, Native.fcntl(fd, Native.F_GETFL, 0) | Native.O_APPEND);
    }

    public void Write(ReadOnlySpan<byte> chunk)
    {
        if (_held + chunk.Length > GatherSize) Flush();
        if (chunk.Length >= GatherSize / 2)
        {
            WriteNow(chunk);
            return;
        }
        chunk.CopyTo(_gathered.AsSpan(_held));
        _held += chunk.Length;
    }

    public void Flush()
    {
        if (_held == 0) return;
        int held = _held;
        _held = 0;
        WriteNow(_gathered.AsSpan(0, held));
    }

    public Task CompleteAsync()
    {
        Flush();
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        try { Flush(); }
        finally { _file.Dispose(); }
        return ValueTask.CompletedTask;
    }

    private void WriteNow(ReadOnlySpan<byte> bytes)
    {
        int errno = FdWriter.WriteAll((int)_file.DangerousGetHandle(), bytes);
        if (errno != 0) throw new IOException($"cannot write the job log: {Marshal.GetPInvokeErrorMessage(errno)}");
    }
}
