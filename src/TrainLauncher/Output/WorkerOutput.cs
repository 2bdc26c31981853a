using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using TrainLauncher.Interop;

namespace TrainLauncher.Output;

/// <summary>
/// Merges the output of N per-device workers into one pipe that <see cref="OutputPump"/> reads
/// as it reads one command's (so stdout, the job log, the recovery ring and the hang watchdog
/// work unchanged). Each worker keeps its own pipe and a <see cref="WorkerRelay"/> thread; the
/// relays write whole lines under one lock, so a line a worker wrote (up to 64 KiB) is never
/// interleaved with another worker's bytes (torchrun's log tail has the same unit). The merged pipe is big and
/// close-on-exec: no command inherits it, and only the relays hold its write end, so the pump
/// sees end of data once the last relay ends.
/// </summary>
internal sealed unsafe class WorkerOutput : IDisposable
{
    private const int MergedPipeSize = 1 << 20;

    private readonly bool _prefix;
    private readonly ILogger _log;
    private readonly WorkerRelay?[] _relays;
    private readonly Lock _state = new();
    private readonly Lock _writes = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _writeFd;
    private int _started;
    private int _ended;
    private bool _drained;
    private volatile bool _draining;
    private volatile bool _stopping;
    private volatile bool _mergedBroken;

    /// <param name="prefix">when true each line a worker writes is prefixed with "[rank N] " (N = its global rank)</param>
    /// <exception cref="IOException">the merged pipe cannot be created</exception>
    public WorkerOutput(int workers, bool prefix, ILogger log)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        _prefix = prefix;
        _log = log;
        _relays = new WorkerRelay?[workers];
        int* fds = stackalloc int[2];
        if (Native.pipe2(fds, Native.O_CLOEXEC) != 0)
            throw new IOException($"cannot create the workers' output pipe: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        Native.fcntl(fds[1], Native.F_SETPIPE_SZ, MergedPipeSize); // best effort: the default still works
        MergedReadFd = fds[0];
        _writeFd = fds[1];
    }

    /// <summary>The read end of the merged pipe: give it to OutputPump.RunAsync (the pump closes
    /// it; if it is never given to the pump, the caller closes it).</summary>
    public int MergedReadFd { get; }

    /// <summary>Completes when every relay has ended and the merged write end is closed (the
    /// pump then reaches end of data by itself). Never faults. Await it before the pump's own
    /// Drain, if at all: a worker's last bytes can still be on their way through its relay
    /// when the merged pipe has looked quiet for 200 ms, and a drained pump would stop first.</summary>
    public Task Completion => _completion.Task;

    internal bool Draining => _draining;

    internal bool Stopping => _stopping;

    /// <summary>Starts relaying one worker's pipe (takes ownership of <paramref name="readFd"/>)
    /// on a thread of its own.</summary>
    /// <param name="localRank">the worker's index, 0..workers-1</param>
    /// <param name="globalRank">its rank in the job: the prefix's number</param>
    /// <param name="logPath">the per-worker log (…/dls-task-&lt;t&gt;-worker-&lt;i&gt;.log), created or
    /// truncated now, or null for none</param>
    public void Relay(int localRank, int globalRank, int readFd, string? logPath)
    {
        WorkerRelay relay;
        lock (_state)
        {
            if ((uint)localRank >= (uint)_relays.Length || _relays[localRank] is not null || _writeFd < 0)
            {
                Native.close(readFd);
                throw new InvalidOperationException($"worker {localRank} cannot be relayed: out of range, relayed already, or the output has ended");
            }
            relay = new WorkerRelay(this, globalRank, readFd, logPath, _prefix, _log);
            _relays[localRank] = relay;
            _started++;
        }
        relay.Start($"worker-relay-{localRank}");
    }

    /// <summary>Every worker has exited: each relay stops at end of data, or once its pipe has
    /// been quiet ~200 ms (a daemon a worker left behind may hold the pipe open), as
    /// OutputPump.Drain does. Workers never relayed are not waited for.</summary>
    public void Drain()
    {
        _draining = true;
        lock (_state)
        {
            _drained = true;
            CloseWhenDone();
        }
    }

    /// <summary>Bytes worker <paramref name="localRank"/> wrote (without prefixes).</summary>
    public long BytesOf(int localRank) => _relays[localRank]?.Bytes ?? 0;

    /// <summary>Stops the relays at their next wake-up without waiting for quiet; the merged write
    /// end closes once they have ended.</summary>
    public void Dispose()
    {
        _stopping = true;
        _draining = true;
        lock (_state)
        {
            _drained = true;
            CloseWhenDone();
        }
    }

    /// <summary>Writes one chunk of a worker to the merged pipe whole: the relays take turns, so
    /// no other worker's bytes land inside it. Blocks while the reader is behind.</summary>
    internal void Write(WorkerRelay relay, ReadOnlySpan<byte> chunk)
    {
        if (_mergedBroken) return;
        lock (_writes)
        {
            if (relay.Prefixer is not { } prefixer)
            {
                WriteMerged(chunk);
                return;
            }
            var buffer = relay.PrefixBuffer!;
            while (!chunk.IsEmpty && !_mergedBroken)
            {
                int produced = prefixer.Copy(chunk, buffer, out int consumed);
                WriteMerged(buffer.AsSpan(0, produced));
                chunk = chunk[consumed..];
            }
        }
    }

    internal void RelayEnded()
    {
        lock (_state)
        {
            _ended++;
            CloseWhenDone();
        }
    }

    private void WriteMerged(ReadOnlySpan<byte> bytes)
    {
        int errno = FdWriter.WriteAll(_writeFd, bytes);
        if (errno == 0) return;
        // The pump has gone (it closed its end): the relays keep the workers' pipes and logs going.
        _mergedBroken = true;
        _log.MergedOutputStopped(Marshal.GetPInvokeErrorMessage(errno));
    }

    /// <summary>Under <see cref="_state"/>: closes the merged write end once no relay runs or
    /// will start.</summary>
    private void CloseWhenDone()
    {
        if (_writeFd < 0 || _ended < _started || (_started < _relays.Length && !_drained)) return;
        Native.close(_writeFd);
        _writeFd = -1;
        _completion.TrySetResult();
    }
}
