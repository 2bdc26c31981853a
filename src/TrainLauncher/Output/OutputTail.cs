namespace TrainLauncher.Output;

/// <summary>
/// The last bytes of the command's output when there is no log file to read them back from
/// (--log-file ""): a fixed ring, one copy per chunk, no allocation on the pump's path. It
/// takes the place of a sink that would drop the bytes.
/// </summary>
internal sealed class OutputTail : ILogSink
{
    public const int Capacity = 8 << 10;

    private readonly ByteRing _ring = new(Capacity);

    public long TotalBytes => _ring.Total;

    public void Write(ReadOnlySpan<byte> chunk) => _ring.Append(chunk);

    /// <summary>The kept bytes in order; call once the pump has ended.</summary>
    public byte[] ToArray()
    {
        var (first, second) = _ring.Last(Capacity);
        return [.. first.Span, .. second.Span];
    }

    public void Flush() { }

    public Task CompleteAsync() => Task.CompletedTask;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
