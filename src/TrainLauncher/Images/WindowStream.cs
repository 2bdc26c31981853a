namespace TrainLauncher.Images;

/// <summary>
/// A read-only, seekable window [offset, offset+length) of a seekable stream. Layers of a tar
/// archive are read through it so a nested TarReader can seek past file data it does not need
/// (a 20 GB file costs one seek, not 20 GB of reads). Several windows may share one base
/// stream one after another: every read positions the base stream itself.
/// </summary>
internal sealed class WindowStream(Stream source, long start, long length) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new IOException("Negative position.");
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        long left = length - _position;
        if (left <= 0)
            return 0;
        if (buffer.Length > left)
            buffer = buffer[..(int)left];
        source.Position = start + _position;
        int read = source.Read(buffer);
        _position += read;
        return read;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };
        return _position;
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
