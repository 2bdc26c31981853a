using System.Globalization;
using System.Text;

namespace TrainLauncher.Output;

/// <summary>
/// Puts "[rank N] " before every line of one worker's output as it is copied, whatever the
/// chunks: a line split over two reads gets one prefix, and a prefix is only written in front of
/// a byte of its line, so a worker's last partial line gets nothing added after it. Pure copying
/// into a caller's buffer: no allocation per chunk.
/// </summary>
internal sealed class LinePrefixer
{
    private readonly byte[] _prefix;
    private bool _atLineStart = true;

    public LinePrefixer(int rank) =>
        _prefix = Encoding.ASCII.GetBytes("[rank " + rank.ToString(CultureInfo.InvariantCulture) + "] ");

    /// <summary>The smallest output buffer <see cref="Copy"/> always makes progress with.</summary>
    public int MinimumOutput => _prefix.Length + 1;

    /// <summary>Copies as much of <paramref name="chunk"/> as fits into <paramref name="output"/>,
    /// with the prefix before each line start.</summary>
    /// <param name="consumed">how many bytes of <paramref name="chunk"/> were copied</param>
    /// <returns>how many bytes of <paramref name="output"/> were written</returns>
    public int Copy(ReadOnlySpan<byte> chunk, Span<byte> output, out int consumed)
    {
        int written = 0;
        consumed = 0;
        while (consumed < chunk.Length)
        {
            if (_atLineStart)
            {
                if (output.Length - written < MinimumOutput) break;
                _prefix.CopyTo(output[written..]);
                written += _prefix.Length;
                _atLineStart = false;
            }
            int room = output.Length - written;
            if (room == 0) break;
            var rest = chunk[consumed..];
            if (rest.Length > room) rest = rest[..room];
            int newline = rest.IndexOf((byte)'\n');
            int take = newline >= 0 ? newline + 1 : rest.Length;
            rest[..take].CopyTo(output[written..]);
            written += take;
            consumed += take;
            _atLineStart = newline >= 0;
        }
        return written;
    }
}
