namespace TrainLauncher.Output;

/// <summary>
/// The most recent bytes of a stream in a fixed buffer, addressed by stream offset. The output
/// pump reads the command's pipe straight into it (<see cref="Free"/>, <see cref="Commit"/>), so
/// the bytes that go to stdout, to the log and to the termination message are copied out of the
/// kernel once; the log sinks write out of it (<see cref="Slice"/>).
/// </summary>
internal sealed class ByteRing(int capacity)
{
    private readonly byte[] _ring = GC.AllocateUninitializedArray<byte>(capacity, pinned: true);

    public int Capacity => capacity;

    /// <summary>Bytes added since the start, kept or not: the stream offset of the next byte.</summary>
    public long Total { get; private set; }

    /// <summary>The stream offset of the oldest byte still kept.</summary>
    public long Oldest => Math.Max(0, Total - capacity);

    /// <summary>Where the next bytes go: at most <paramref name="maxBytes"/> contiguous bytes, which
    /// overwrite the oldest ones. Fill a prefix of it, then <see cref="Commit"/> that many.</summary>
    public Span<byte> Free(int maxBytes)
    {
        int at = (int)(Total % capacity);
        return _ring.AsSpan(at, Math.Min(maxBytes, capacity - at));
    }

    public void Commit(int count) => Total += count;

    public void Append(ReadOnlySpan<byte> chunk)
    {
        if (chunk.Length > capacity)
        {
            Total += chunk.Length - capacity;
            chunk = chunk[^capacity..];
        }
        while (!chunk.IsEmpty)
        {
            var free = Free(chunk.Length);
            chunk[..free.Length].CopyTo(free);
            Commit(free.Length);
            chunk = chunk[free.Length..];
        }
    }

    /// <summary>Kept bytes from stream offset <paramref name="from"/> (at least <see cref="Oldest"/>),
    /// as many as are contiguous, at most <paramref name="maxBytes"/>.</summary>
    public ReadOnlySpan<byte> Slice(long from, int maxBytes = int.MaxValue)
    {
        if (from < Oldest || from > Total) throw new ArgumentOutOfRangeException(nameof(from), $"offset {from} is not kept ({Oldest}..{Total})");
        int at = (int)(from % capacity);
        long count = Math.Min(Math.Min(Total - from, capacity - at), maxBytes);
        return _ring.AsSpan(at, (int)count);
    }

    /// <summary>The last <paramref name="count"/> bytes (at most what is kept), in order.</summary>
    public byte[] Last(long count)
    {
        long from = Total - Math.Min(count, Total - Oldest);
        var copy = new byte[Total - from];
        for (int done = 0; done < copy.Length;)
        {
            var piece = Slice(from + done);
            piece.CopyTo(copy.AsSpan(done));
            done += piece.Length;
        }
        return copy;
    }
}
