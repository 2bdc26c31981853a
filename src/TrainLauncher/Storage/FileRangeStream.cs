using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace TrainLauncher.Storage;

/// <summary>
/// A read-only, seekable window [start, start+length) of an open file, read with positional
/// reads (several windows of one handle can be read at once: the parts of a multipart upload).
/// The window's MD5 is taken on the first complete pass in order, for the ETag check. A read
/// error or a file that shrank is a <see cref="LocalFileException"/>: never a broken
/// connection, never retried. The handle stays open: its owner closes it.
/// </summary>
internal sealed class FileRangeStream(SafeFileHandle handle, long start, long length) : Stream
{
    private readonly IncrementalHash md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
    private long position;
    private long hashed;

    /// <summary>MD5 of the window, once one pass has read all of it in order; null before.</summary>
    public byte[]? Md5 { get; private set; } = length == 0 ? MD5.HashData(ReadOnlySpan<byte>.Empty) : null;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var wanted = Wanted(buffer.Length);
        if (wanted == 0) return 0;
        int read;
        try { read = RandomAccess.Read(handle, buffer[..wanted], start + position); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw LocalFileException.From(e); }
        return Advance(buffer[..read]);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var wanted = Wanted(buffer.Length);
        if (wanted == 0) return 0;
        int read;
        try { read = await RandomAccess.ReadAsync(handle, buffer[..wanted], start + position, cancellationToken); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw LocalFileException.From(e); }
        return Advance(buffer.Span[..read]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => position + offset,
            _ => length + offset,
        };
        if (target < 0) throw new IOException("Negative position.");
        if (target != hashed && Md5 is null)
        {
            // A pass that did not run to the end (the SDK rewinds to resend): the next pass hashes again.
            md5.GetHashAndReset();
            hashed = 0;
        }
        position = target;
        return position;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) md5.Dispose();
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int Wanted(int room) => (int)Math.Min(room, Math.Max(0, length - position));

    private int Advance(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0)
            throw new LocalFileException($"the file shrank while it was read (to {start + position} bytes, {start + length} expected)");
        if (Md5 is null && position == hashed)
        {
            md5.AppendData(data);
            hashed += data.Length;
            if (hashed == length) Md5 = md5.GetHashAndReset();
        }
        position += data.Length;
        return data.Length;
    }
}
