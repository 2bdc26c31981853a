using System.Globalization;

namespace TrainLauncher.Cluster;

/// <summary>One node of the job as the platform lists it: <c>host</c> or <c>host:port</c>.</summary>
internal sealed record HostEntry(string Host, int? Port)
{
    /// <summary><c>host:port</c> with IPv6 addresses in brackets.</summary>
    public string WithPort(int port) =>
        $"{(Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host)}:{port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Parses <c>host</c>, <c>host:port</c>, <c>[v6]</c> or <c>[v6]:port</c>; null if malformed.</summary>
    public static HostEntry? TryParse(string text)
    {
        string host;
        string? port = null;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
                return null;
            host = text[1..close];
            var rest = text[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':')
                    return null;
                port = rest[1..];
            }
            if (!host.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.'))
                return null;
        }
        else
        {
            var parts = text.Split(':');
            if (parts.Length > 2)
                return null;
            host = parts[0];
            port = parts.Length == 2 ? parts[1] : null;
            if (!host.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
                return null;
        }

        if (host.Length == 0)
            return null;
        if (port is null)
            return new HostEntry(host, null);
        return TryParsePort(port, out var number) ? new HostEntry(host, number) : null;
    }

    public static bool TryParsePort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;
}
