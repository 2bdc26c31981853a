using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TrainLauncher.Tests.Storage.Support;

/// <summary>What the proxy saw of one request.</summary>
public sealed record ProxyRequest(int Number, string Method, string Target, IReadOnlyDictionary<string, string> Headers)
{
    public string Path => Target.Split('?')[0];
    public string Query => Target.Contains('?') ? Target[(Target.IndexOf('?') + 1)..] : "";

    /// <summary>GET of one object (path /bucket/key), not a listing.</summary>
    public bool IsGetObject => Method == "GET" && Path.Count(c => c == '/') >= 2 && !Query.Contains("list-type");
    public bool IsList => Method == "GET" && Query.Contains("list-type");

    /// <summary>A listing request that continues an earlier page.</summary>
    public bool IsListContinuation => IsList && Query.Contains("continuation-token");

    /// <summary>POST ?uploads: the start of a multipart upload.</summary>
    public bool IsInitiateMultipart => Method == "POST" && Query.Split('&').Contains("uploads");

    /// <summary>POST ?uploadId=…: the end of a multipart upload.</summary>
    public bool IsCompleteMultipart => Method == "POST" && Query.Contains("uploadId=");
}

/// <summary>A fault the proxy injects instead of (or while) forwarding a request.</summary>
public abstract record Fault
{
    /// <summary>Answer with this status and S3 error code, do not forward.</summary>
    public sealed record Status(int Code, string ErrorCode) : Fault;

    /// <summary>Forward, pass the first <paramref name="Bytes"/> of the answer, then reset the connection.</summary>
    public sealed record ResetAfter(int Bytes) : Fault;

    /// <summary>Read the request and never answer.</summary>
    public sealed record Stall : Fault;

    /// <summary>Forward, but flip the last byte of the answer's body.</summary>
    public sealed record Corrupt : Fault;

    /// <summary>Answer 200 with this XML body, do not forward.</summary>
    public sealed record Xml(string Body) : Fault;

    /// <summary>Wait until <paramref name="Release"/> completes (at most <paramref name="Limit"/>), then forward.</summary>
    public sealed record Hold(Task Release, TimeSpan Limit) : Fault;

    /// <summary>Forward, then pass the answer's body (text) through <paramref name="Body"/>; Content-Length follows.</summary>
    public sealed record Rewrite(Func<string, string> Body) : Fault;
}

/// <summary>
/// A small HTTP/1.1 proxy in front of s3rver that injects faults: one request per connection
/// (it answers "Connection: close"), which keeps the framing trivial.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly int upstreamPort;
    private readonly CancellationTokenSource stop = new();
    private readonly Task acceptLoop;
    private int requestCount;
    private int holdsTimedOut;

    public FaultProxy(int upstreamPort)
    {
        this.upstreamPort = upstreamPort;
        listener.Start();
        acceptLoop = AcceptAsync();
    }

    public string Endpoint => $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";

    /// <summary>Decides per request; null forwards it untouched.</summary>
    public Func<ProxyRequest, Fault?> Rule { get; set; } = _ => null;

    public ConcurrentQueue<(ProxyRequest Request, Fault? Fault)> Seen { get; } = new();

    /// <summary>How many <see cref="Fault.Hold"/>s ended by their limit rather than their release.</summary>
    public int HoldsTimedOut => Volatile.Read(ref holdsTimedOut);

    /// <summary>Faults the first <paramref name="count"/> requests that <paramref name="match"/>, forwards the rest.</summary>
    public static Func<ProxyRequest, Fault?> FirstN(int count, Func<ProxyRequest, bool> match, Fault fault)
    {
        var left = count;
        return request => match(request) && Interlocked.Decrement(ref left) >= 0 ? fault : null;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        try { await acceptLoop; } catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            var client = await listener.AcceptTcpClientAsync(stop.Token);
            _ = Task.Run(() => HandleAsync(client));
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        try
        {
            using (client)
            {
                var stream = client.GetStream();
                if (await ReadRequestAsync(stream) is not { } raw)
                    return;
                var (request, head, body) = raw;
                var fault = Rule(request);
                Seen.Enqueue((request, fault));
                switch (fault)
                {
                    case Fault.Status status:
                        await ReplyAsync(stream, status.Code,
                            $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{status.ErrorCode}</Code><Message>injected {status.ErrorCode}</Message><RequestId>1</RequestId></Error>");
                        return;
                    case Fault.Xml xml:
                        await ReplyAsync(stream, 200, xml.Body);
                        return;
                    case Fault.Stall:
                        await Task.Delay(Timeout.Infinite, stop.Token);
                        return;
                    case Fault.Hold hold:
                        if (await Task.WhenAny(hold.Release, Task.Delay(hold.Limit, stop.Token)) != hold.Release)
                            Interlocked.Increment(ref holdsTimedOut);
                        break;
                }

                using var upstream = new TcpClient();
                await upstream.ConnectAsync(IPAddress.Loopback, upstreamPort);
                var upstreamStream = upstream.GetStream();
                await upstreamStream.WriteAsync(head);
                await upstreamStream.WriteAsync(body);
                var answer = new MemoryStream();
                await upstreamStream.CopyToAsync(answer); // "Connection: close" makes s3rver end it
                var bytes = answer.ToArray();
                switch (fault)
                {
                    case Fault.ResetAfter reset:
                        await stream.WriteAsync(bytes.AsMemory(0, Math.Min(reset.Bytes, bytes.Length)));
                        client.Client.LingerState = new LingerOption(true, 0); // close → RST
                        client.Client.Close();
                        return;
                    case Fault.Corrupt:
                        bytes[^1] ^= 0xFF;
                        break;
                    case Fault.Rewrite rewrite:
                        bytes = Rewritten(bytes, rewrite.Body);
                        break;
                }
                await stream.WriteAsync(bytes);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client gave up (timeout) or the proxy is stopping.
        }
    }

    private static byte[] Rewritten(byte[] answer, Func<string, string> rewrite)
    {
        var headEnd = IndexOf(answer, "\r\n\r\n"u8);
        var body = Encoding.UTF8.GetBytes(rewrite(Encoding.UTF8.GetString(answer, headEnd + 4, answer.Length - headEnd - 4)));
        var head = string.Join("\r\n", Encoding.ASCII.GetString(answer, 0, headEnd).Split("\r\n")
            .Select(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase) ? $"Content-Length: {body.Length}" : l));
        return [.. Encoding.ASCII.GetBytes(head + "\r\n\r\n"), .. body];
    }

    private static async Task ReplyAsync(NetworkStream stream, int code, string xml)
    {
        var body = Encoding.UTF8.GetBytes(xml);
        var head = $"HTTP/1.1 {code} {(code == 200 ? "OK" : "Injected")}\r\nContent-Type: application/xml\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(body);
    }

    /// <summary>Reads one request; returns it with the head rewritten to "Connection: close" and the body.</summary>
    private async Task<(ProxyRequest, byte[], byte[])?> ReadRequestAsync(NetworkStream stream)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int headEnd;
        while ((headEnd = IndexOf(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), "\r\n\r\n"u8)) < 0)
        {
            var read = await stream.ReadAsync(chunk);
            if (read == 0)
                return null;
            buffer.Write(chunk, 0, read);
        }
        var all = buffer.ToArray();
        var lines = Encoding.UTF8.GetString(all, 0, headEnd).Split("\r\n");
        var parts = lines[0].Split(' ');
        var headers = lines.Skip(1)
            .Select(l => l.Split(':', 2))
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var length = headers.TryGetValue("Content-Length", out var value) ? int.Parse(value) : 0;
        if (headers.TryGetValue("Expect", out var expect) && expect.Equals("100-continue", StringComparison.OrdinalIgnoreCase))
            await stream.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray());
        var body = new MemoryStream();
        body.Write(all, headEnd + 4, all.Length - headEnd - 4);
        while (body.Length < length)
        {
            var read = await stream.ReadAsync(chunk);
            if (read == 0)
                return null;
            body.Write(chunk, 0, read);
        }
        var newHead = new StringBuilder(lines[0] + "\r\n");
        foreach (var line in lines.Skip(1).Where(l => !l.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase) && !l.StartsWith("Expect:", StringComparison.OrdinalIgnoreCase)))
            newHead.Append(line).Append("\r\n");
        newHead.Append("Connection: close\r\n\r\n");
        var request = new ProxyRequest(Interlocked.Increment(ref requestCount), parts[0], parts[1], headers);
        return (request, Encoding.UTF8.GetBytes(newHead.ToString()), body.ToArray());
    }

    private static int IndexOf(ReadOnlySpan<byte> data, ReadOnlySpan<byte> pattern) => data.IndexOf(pattern);
}
