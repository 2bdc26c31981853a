namespace TrainLauncher.Output;

/// <summary>
/// The last bytes of the command's output when there is no log file to read them back from
/// (--log-file ""): a fixed ring, one copy per chunk, no allocation on the pump's path. It
/// takes the place of a sink that would drop the bytes.
/// </summary>
internal sealed class OutputTail : ILogSink
{
    public const int Capacity = 8 << 10;

    private readonly byte[] _ring = new byte[Capacity];
    private long _written;

    public long TotalBytes => _written;

    public void Write(ReadOnlySpan<byte> chunk)
    {
        long end = _written + chunk.Length;
        if (chunk.Length > Capacity) chunk = chunk[^Capacity..];
        int at = (int)((end - chunk.Length) % Capacity);
        int first = Math.Min(chunk.Length, Capacity - at);
        chunk[..first].CopyTo(_ring.AsSpan(at));
        chunk[first..].CopyTo(_ring);
        _written = end;
    }

    /// <summary>The kept bytes in order; call once the pump has ended.</summary>
    public byte[] ToArray()
    {
        if (_written <= Capacity) return _ring.AsSpan(0, (int)_written).ToArray();
        int at = (int)(_written % Capacity);
        return [.. _ring.AsSpan(at), .. _ring.AsSpan(0, at)];
    }

    public void Flush() { }

    public Task CompleteAsync() => Task.CompletedTask;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
