using System.Net.Sockets;
using System.Net;
using System.Text.Json;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TrainLauncher.Launch;
using TrainLauncher.Reporting;

namespace TrainLauncher.Health;

/// <summary>
/// SPEC 11's `GET /health` and `GET /status`: a minimal HTTP/1.1 responder on a raw socket
/// (one request per connection, `Connection: close`). Kestrel would start ~30–50 ms later and
/// add ~9 MB to the binary (README, "Why a raw-socket responder"); two fixed answers need neither. It binds on
/// the thread pool, beside the pipeline: nothing here is awaited before the command starts.
/// Failure policy: the endpoint may fail (busy port, broken client) — a warning, never the job.
/// </summary>
internal sealed class HealthEndpoint(LaunchOptions options, RunState state, ILogger log) : IHostedService, IDisposable
{
    private const int MaxRequestBytes = 8 << 10;
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stop = new();
    private Task _serving = Task.CompletedTask;

    /// <summary>The port actually bound (the option's, or the system's pick for tests), once listening.</summary>
    public TaskCompletionSource<int> Listening { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Plan || options.HealthPort == 0) return Task.CompletedTask;
        _serving = Task.Run(ServeAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        await _serving;
    }

    public void Dispose() => _stop.Dispose();

    private async Task ServeAsync()
    {
        using var listener = Listen();
        if (listener is null) return;
        try
        {
            while (true)
            {
                var client = await listener.AcceptAsync(_stop.Token);
                _ = AnswerAsync(client);
            }
        }
        catch (OperationCanceledException) { }
        catch (SocketException e)
        {
            log.HealthStopped(e.Message);
        }
    }

    private Socket? Listen()
    {
        var address = IPAddress.Parse(options.HealthBind);
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6) socket.DualMode = true;
            socket.Bind(new IPEndPoint(address, options.HealthPort));
            socket.Listen(16);
            Listening.TrySetResult(((IPEndPoint)socket.LocalEndPoint!).Port);
            log.HealthListening(options.HealthBind, options.HealthPort);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            string why = e.SocketErrorCode == SocketError.AddressAlreadyInUse ? "the port is in use" : e.Message;
            log.HealthUnavailable(options.HealthBind, options.HealthPort, why);
            Listening.TrySetResult(0);
            return null;
        }
    }

    private async Task AnswerAsync(Socket client)
    {
        using (client)
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
        {
            timeout.CancelAfter(ClientTimeout);
            try
            {
                string? requestLine = await ReadRequestLineAsync(client, timeout.Token);
                var (code, body, headOnly) = Respond(requestLine);
                await client.SendAsync(Response(code, body, headOnly), SocketFlags.None, timeout.Token);
                client.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // A client that vanished or stalled is its own problem; the next probe gets a fresh answer.
            }
        }
    }

    /// <summary>The first line of the request, once its header block is complete; null when malformed.</summary>
    private static async Task<string?> ReadRequestLineAsync(Socket client, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxRequestBytes];
        int length = 0;
        while (length < buffer.Length)
        {
            int n = await client.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellationToken);
            if (n == 0) break;
            length += n;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0) break;
        }
        int end = buffer.AsSpan(0, length).IndexOf("\r\n"u8);
        return end < 0 ? null : Encoding.ASCII.GetString(buffer, 0, end);
    }

    /// <summary>Status code and JSON body for one request line.</summary>
    internal (int Code, byte[] Body, bool HeadOnly) Respond(string? requestLine)
    {
        var parts = requestLine?.Split(' ');
        if (parts is not { Length: 3 } || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            return (400, Error("bad request"), false);
        bool head = parts[0] == "HEAD";
        if (parts[0] != "GET" && !head) return (405, Error("only GET and HEAD"), false);
        string path = parts[1].Split('?')[0];
        return path switch
        {
            "/health" => state.Healthy ? (200, """{"health": "true"}"""u8.ToArray(), head) : (503, """{"health": "false"}"""u8.ToArray(), head),
            "/status" => (200, StatusJson(), head),
            _ => (404, Error("not found: try /health or /status"), head),
        };
    }

    /// <summary>SPEC 11's status object. pid: the command's once started, else the launcher's own.</summary>
    internal byte[] StatusJson()
    {
        var output = new MemoryStream();
        using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteString("phase", RunState.Name(state.Phase));
            json.WriteNumber("pid", state.CommandPid != 0 ? state.CommandPid : Environment.ProcessId);
            json.WriteString("started_at", state.StartedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteNumber("elapsed_s", Math.Round(state.Elapsed.TotalSeconds, 3));
            if (state.ExitCode is { } code) json.WriteNumber("exit_code", code);
            else json.WriteNull("exit_code");
            json.WriteEndObject();
        }
        return output.ToArray();
    }

    private static byte[] Error(string message)
    {
        var output = new MemoryStream();
        using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteString("error", message);
            json.WriteEndObject();
        }
        return output.ToArray();
    }

    private static byte[] Response(int code, byte[] body, bool headOnly)
    {
        string reason = code switch
        {
            200 => "OK", 400 => "Bad Request", 404 => "Not Found", 405 => "Method Not Allowed", _ => "Service Unavailable",
        };
        string header = $"HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n"
            + $"Cache-Control: no-store\r\n{(code == 405 ? "Allow: GET, HEAD\r\n" : "")}Connection: close\r\n\r\n";
        return [.. Encoding.ASCII.GetBytes(header), .. headOnly ? [] : body];
    }
}
