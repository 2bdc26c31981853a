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
    /// <summary>Open connections at most; a newer one closes the oldest idle one (<see cref="HealthConnections"/>).</summary>
    public const int MaxConnections = 64;
    /// <summary>How long a client has to send its request head; then it gets 400.</summary>
    private static readonly TimeSpan ReadDeadline = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxAcceptBackoff = TimeSpan.FromSeconds(1);

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
        var connections = new HealthConnections(MaxConnections);
        var backoff = TimeSpan.Zero;
        try
        {
            while (true)
            {
                Socket client;
                try
                {
                    client = await listener.AcceptAsync(_stop.Token);
                }
                catch (SocketException e)
                {
                    // Out of file descriptors (EMFILE, ENFILE) or buffers: the connection waits in
                    // the backlog. Pause and try again; ending here would refuse every later probe.
                    if (backoff == TimeSpan.Zero)
                        log.HealthAcceptFailing(e.Message);
                    backoff = TimeSpan.FromTicks(Math.Min(Math.Max(backoff.Ticks * 2, TimeSpan.TicksPerMillisecond * 10), MaxAcceptBackoff.Ticks));
                    await Task.Delay(backoff, _stop.Token);
                    continue;
                }
                if (backoff != TimeSpan.Zero)
                {
                    log.HealthAcceptRecovered();
                    backoff = TimeSpan.Zero;
                }
                if (connections.Admit(client) is { } connection)
                    _ = AnswerAsync(connection, connections);
                else
                    client.Dispose();
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e)
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
            // Room for a burst: connections past the limit are accepted and close idle ones.
            socket.Listen(2 * MaxConnections);
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

    private async Task AnswerAsync(HealthConnections.Connection connection, HealthConnections connections)
    {
        var client = connection.Socket;
        try
        {
            var request = await ReadRequestAsync(client);
            if (request is null) return; // closed before sending anything: nobody to answer
            connections.Answering(connection);
            var (code, body, headOnly) = Respond(request);
            using var sendTimeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            sendTimeout.CancelAfter(ReadDeadline);
            await client.SendAsync(Response(code, body, headOnly), SocketFlags.None, sendTimeout.Token);
            client.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // A client that vanished, stalled on reading, or was closed for a newer one; the next probe gets a fresh answer.
        }
        finally
        {
            connections.Close(connection);
        }
    }

    /// <summary>The request, once its head is complete or the read deadline passed; null when the client sent nothing.</summary>
    private async Task<HealthRequest?> ReadRequestAsync(Socket client)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        deadline.CancelAfter(ReadDeadline);
        var buffer = new byte[HealthRequest.MaxBytes];
        int length = 0;
        while (true)
        {
            bool final;
            try
            {
                int n = await client.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, deadline.Token);
                length += n;
                final = n == 0;
            }
            catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
            {
                final = true; // the read deadline: answer what came (a request without its blank line is 400)
            }
            if (final && length == 0)
                return null;
            if (HealthRequest.Read(buffer.AsSpan(0, length), final) is { } request)
                return request;
        }
    }

    /// <summary>Status code and JSON body for one request.</summary>
    internal (int Code, byte[] Body, bool HeadOnly) Respond(HealthRequest request)
    {
        if (request is not HealthRequest.Line(var method, var target))
            return (400, Error(((HealthRequest.Bad)request).Why), false);
        bool head = method == "HEAD";
        if (method != "GET" && !head) return (405, Error("only GET and HEAD"), false);
        string path = target.Split('?')[0];
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
            json.WriteString("started_at", Timestamp(state.StartedAt));
            json.WriteNumber("elapsed_s", Math.Round(state.Elapsed.TotalSeconds, 3));
            if (state.ExitCode is { } code) json.WriteNumber("exit_code", code);
            else json.WriteNull("exit_code");
            // The hang watchdog's measure, whether or not it is on: null unless the command runs.
            if (state.Running is { } running) json.WriteNumber("seconds_since_output", Math.Round(running.SinceLastOutput.TotalSeconds, 3));
            else json.WriteNull("seconds_since_output");
            if (state.LastCheckpointSync is { } synced) json.WriteString("last_checkpoint_sync", Timestamp(synced));
            else json.WriteNull("last_checkpoint_sync");
            json.WriteEndObject();
        }
        return output.ToArray();
    }

    private static string Timestamp(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

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
