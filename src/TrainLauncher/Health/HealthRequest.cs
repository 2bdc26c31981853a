using System.Text;

namespace TrainLauncher.Health;

/// <summary>
/// What the health endpoint makes of the bytes of one request: the method and target of its
/// request line once the head is complete (ends with a blank line, CRLF CRLF), or why it is
/// bad. Pure, so the fuzz targets and property tests call it directly.
/// </summary>
internal abstract record HealthRequest
{
    public const int MaxBytes = 8 << 10;

    public sealed record Line(string Method, string Target) : HealthRequest;

    public sealed record Bad(string Why) : HealthRequest;

    /// <summary>
    /// Null while more bytes could still complete the head. <paramref name="final"/>: no more
    /// will be read (the client closed its side or the read deadline passed); an incomplete
    /// head is then <see cref="Bad"/>, as is one that fills <see cref="MaxBytes"/> without ending.
    /// </summary>
    public static HealthRequest? Read(ReadOnlySpan<byte> received, bool final)
    {
        int headEnd = received.IndexOf("\r\n\r\n"u8);
        if (headEnd < 0)
        {
            if (received.Length >= MaxBytes)
                return new Bad($"request head over {MaxBytes} bytes");
            return final ? new Bad("incomplete request: no blank line after the headers") : null;
        }
        // The first CRLF is at or before the blank line's, so the line is never empty of its end.
        int lineEnd = received.IndexOf("\r\n"u8);
        var parts = Encoding.ASCII.GetString(received[..lineEnd]).Split(' ');
        return parts is [var method, var target, var version] && version.StartsWith("HTTP/1.", StringComparison.Ordinal)
            ? new Line(method, target)
            : new Bad("bad request line");
    }
}
