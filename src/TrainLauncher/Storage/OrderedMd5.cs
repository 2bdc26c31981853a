using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace TrainLauncher.Storage;

/// <summary>
/// The MD5 of a file whose ranges are written in parallel, each range front to back: bytes are
/// hashed in file order as soon as every byte before them is written. The writer of the range
/// at the front hashes its own data as it writes it; what was written ahead of the front is
/// read back from the file (the page cache) by a background task, so no download waits for the
/// hash. One party hashes at a time; the others only record how far they wrote.
/// </summary>
internal sealed class OrderedMd5(SafeFileHandle file, IReadOnlyList<(long Start, long Length)> ranges) : IDisposable
{
    private const int ReadBackBlock = 1 << 20;

    private readonly IncrementalHash md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
    private readonly object gate = new();
    private readonly long[] written = new long[ranges.Count];
    private int front;            // the range the hash front is in
    private long hashed;          // bytes of ranges[front] hashed
    private bool hashing;         // a writer or the read-back task owns the hash
    private Task readBack = Task.CompletedTask;

    /// <summary>Called after <paramref name="data"/> was written at <paramref name="offset"/> within range <paramref name="range"/>.</summary>
    public void Wrote(int range, long offset, ReadOnlySpan<byte> data)
    {
        lock (gate)
        {
            written[range] = offset + data.Length;
            if (hashing) return;
            if (range != front || offset != hashed)
            {
                StartReadBackIfBehind();
                return;
            }
            hashing = true;
        }
        // The front's own bytes, straight from the writer's buffer.
        md5.AppendData(data);
        lock (gate)
        {
            hashed += data.Length;
            hashing = false;
            StartReadBackIfBehind();
        }
    }

    /// <summary>The MD5, once every range is written: waits for the read-back, then hashes what is left.</summary>
    public async Task<byte[]> ResultAsync()
    {
        while (true)
        {
            Task pending;
            lock (gate) pending = readBack;
            await pending;
            lock (gate)
            {
                if (pending != readBack) continue;
                MoveFront();
                if (front == ranges.Count) return md5.GetHashAndReset();
                if (written[front] <= hashed) throw new InvalidOperationException("a range was not written to its end");
                hashing = true;
                readBack = Task.Run(ReadBack);
            }
        }
    }

    public void Dispose() => md5.Dispose();

    /// <summary>Under the gate: moves the front over finished ranges and starts the read-back when written bytes wait for it.</summary>
    private void StartReadBackIfBehind()
    {
        MoveFront();
        if (hashing || front == ranges.Count || written[front] <= hashed) return;
        hashing = true;
        readBack = Task.Run(ReadBack);
    }

    private void MoveFront()
    {
        while (front < ranges.Count && hashed == ranges[front].Length)
        {
            front++;
            hashed = 0;
        }
    }

    /// <summary>Hashes written bytes from the file until it reaches bytes not yet written, then gives up the hash.</summary>
    private void ReadBack()
    {
        var buffer = new byte[ReadBackBlock];
        try
        {
            while (true)
            {
                long start, length;
                lock (gate)
                {
                    MoveFront();
                    if (front == ranges.Count || written[front] <= hashed)
                    {
                        hashing = false;
                        return;
                    }
                    start = ranges[front].Start + hashed;
                    length = Math.Min(written[front] - hashed, ReadBackBlock);
                }
                var read = ReadFully(file, buffer.AsSpan(0, (int)length), start);
                md5.AppendData(buffer, 0, read);
                lock (gate) hashed += read;
            }
        }
        catch
        {
            lock (gate) hashing = false;
            throw;
        }
    }

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="offset"/>; the bytes are known to be written.</summary>
    public static int ReadFully(SafeFileHandle file, Span<byte> buffer, long offset)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read;
            try { read = RandomAccess.Read(file, buffer[total..], offset + total); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw LocalFileException.From(e); }
            if (read == 0) throw new LocalFileException("the fetched file shrank while it was checked");
            total += read;
        }
        return total;
    }
}
