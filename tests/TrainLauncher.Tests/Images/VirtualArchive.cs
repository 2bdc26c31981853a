using System.Formats.Tar;

namespace TrainLauncher.Tests.Images;

/// <summary>
/// A tar archive made of real byte runs and declared-but-absent runs (file data that is never
/// written). As a stream, reading inside an absent run throws: the checker passes only if it
/// never reads the data it does not need. Written to disk, the absent runs become holes of a
/// sparse file, so a 20 GB layer costs a few kilobytes of disk.
/// </summary>
internal sealed class VirtualArchive
{
    private readonly List<(long Start, byte[]? Bytes, long Length)> _runs = [];

    public long Length { get; private set; }

    public void Bytes(byte[] bytes) => Add(bytes, bytes.Length);

    public void Absent(long length) => Add(null, length);

    /// <summary>A member whose data follows as runs: its header now, then the caller's runs, then Pad(length).</summary>
    public void MemberHeader(string name, long length)
    {
        var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new DeclaredLengthStream(length) });
        // TarWriter wrote header, no data (the stream gives none), padding for the declared size, end blocks.
        Bytes(stream.ToArray()[..(int)(stream.Length - 1024 - Padding(length))]);
    }

    public void Pad(long length) => Bytes(new byte[Padding(length)]);

    public void Member(string name, byte[] data)
    {
        MemberHeader(name, data.Length);
        Bytes(data);
        Pad(data.Length);
    }

    public void End() => Bytes(new byte[1024]);

    private static long Padding(long length) => (512 - length % 512) % 512;

    private void Add(byte[]? bytes, long length)
    {
        _runs.Add((Length, bytes, length));
        Length += length;
    }

    public RunStream OpenRead() => new(this);

    /// <summary>Writes the real runs and leaves the absent ones as holes.</summary>
    public void WriteSparse(string path)
    {
        using var file = File.Create(path);
        file.SetLength(Length);
        foreach (var (start, bytes, _) in _runs)
        {
            if (bytes is null)
                continue;
            file.Position = start;
            file.Write(bytes);
        }
    }

    internal sealed class RunStream(VirtualArchive archive) : Stream
    {
        public long BytesRead { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => archive.Length;
        public override long Position { get; set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int total = 0;
            while (count > 0 && Position < Length)
            {
                var (start, bytes, length) = archive._runs.Last(run => run.Start <= Position);
                if (bytes is null)
                    throw new InvalidOperationException($"read at {Position}, inside declared data that must be skipped");
                int n = (int)Math.Min(count, start + length - Position);
                Array.Copy(bytes, Position - start, buffer, offset, n);
                Position += n;
                offset += n;
                count -= n;
                total += n;
            }
            BytesRead += total;
            return total;
        }

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => Position + offset,
            _ => Length + offset,
        };

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Claims a length and gives no bytes, so TarWriter writes only the header for it.</summary>
    private sealed class DeclaredLengthStream(long length) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get; set; }
        public override int Read(byte[] buffer, int offset, int count) => 0;
        public override long Seek(long offset, SeekOrigin origin) => Position = offset;
        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
