namespace TrainLauncher.Output;

/// <summary>The most recent bytes of a stream in a fixed buffer: one copy per append, no allocation.</summary>
internal sealed class ByteRing(int capacity)
{
    private readonly byte[] _ring = GC.AllocateUninitializedArray<byte>(capacity);

    public int Capacity => capacity;

    /// <summary>Bytes appended since the start, kept or not.</summary>
    public long Total { get; private set; }

    public void Append(ReadOnlySpan<byte> chunk)
    {
        long end = Total + chunk.Length;
        if (chunk.Length > capacity) chunk = chunk[^capacity..];
        int at = (int)((end - chunk.Length) % capacity);
        int first = Math.Min(chunk.Length, capacity - at);
        chunk[..first].CopyTo(_ring.AsSpan(at));
        chunk[first..].CopyTo(_ring);
        Total = end;
    }

    /// <summary>The last <paramref name="count"/> bytes (at most what is kept), in order, as two spans.</summary>
    public (ReadOnlyMemory<byte> First, ReadOnlyMemory<byte> Second) Last(long count)
    {
        count = Math.Min(count, Math.Min(Total, capacity));
        int at = (int)((Total - count) % capacity);
        int first = (int)Math.Min(count, capacity - at);
        return (_ring.AsMemory(at, first), _ring.AsMemory(0, (int)(count - first)));
    }
}
