using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TrainLauncher.Health;
using TrainLauncher.Launch;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Health;

/// <summary>
/// The endpoint under abuse, over real sockets: a flood of idle clients, the launcher's file
/// descriptor limit, requests that never finish their head.
/// </summary>
public class HealthLimitSpecs(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task A_request_without_a_blank_line_is_answered_400_at_its_read_deadline()
    {
        using var dir = new TempDir();
        var (run, port) = EndpointRun(dir);
        using var launcher = run.Start();
        var collecting = run.CollectAsync(launcher);
        await Http.WaitForPhaseAsync(port, "running", launcher);

        // Headers without the blank line, and a request line without even its CRLF; both clients keep their side open.
        var answers = await Task.WhenAll(
            SendAndReadAsync(port, "GET /health HTTP/1.1\r\nHost: x\r\n"),
            SendAndReadAsync(port, "GET /health HTTP/1.1"));

        foreach (var answer in answers)
        {
            Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", answer);
            Assert.EndsWith("""{"error":"incomplete request: no blank line after the headers"}""", answer);
        }
        File.WriteAllText(dir["go"], "");
        Assert.Equal(0, (await collecting).ExitCode);
    }

    private static async Task<string> SendAndReadAsync(int port, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Two_thousand_idle_clients_hold_at_most_64_connections_and_a_probe_is_still_answered()
    {
        using var dir = new TempDir();
        var (run, port) = EndpointRun(dir);
        using var launcher = run.Start();
        var collecting = run.CollectAsync(launcher);
        await Http.WaitForPhaseAsync(port, "running", launcher);
        int before = OpenFds(launcher.Id);

        int most = before;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                most = Math.Max(most, OpenFds(launcher.Id));
                await Task.Delay(5);
            }
        });
        var idle = new List<Socket>();
        try
        {
            var connects = Enumerable.Range(0, 2000).Select(_ =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                idle.Add(socket);
                return socket.ConnectAsync(IPAddress.Loopback, port);
            }).ToList();
            await Task.WhenAny(Task.WhenAll(connects), Task.Delay(TimeSpan.FromSeconds(90)));
            // Every attempt ends: connected, or reset because the endpoint closed it for a newer one.
            var outcomes = connects.GroupBy(c => c.IsCompletedSuccessfully ? "connected" : c.IsFaulted ? c.Exception!.InnerException!.Message : "pending")
                .Select(g => $"{g.Count()} {g.Key}").ToList();
            output.WriteLine("2000 idle clients: " + string.Join(", ", outcomes));
            Assert.All(connects, c => Assert.True(c.IsCompletedSuccessfully
                || c.Exception?.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset }, string.Join(", ", outcomes)));

            Assert.Equal((200, """{"health": "true"}"""), await Http.GetAsync(port, "/health"));
        }
        finally
        {
            await sampling.CancelAsync();
            await sampler;
            foreach (var socket in idle)
                socket.Dispose();
        }

        // The connections, plus a little for what the launcher opens meanwhile; 2,000 would hold ~1,600.
        output.WriteLine($"launcher descriptors: {before} before the clients, at most {most} with them");
        Assert.InRange(most, before, before + HealthEndpoint.MaxConnections + 8);
        File.WriteAllText(dir["go"], "");
        Assert.Equal(0, (await collecting).ExitCode);
    }

    [Fact]
    public async Task At_the_file_descriptor_limit_the_endpoint_backs_off_and_answers_once_descriptors_are_free()
    {
        using var dir = new TempDir();
        var (run, port) = EndpointRun(dir);
        // A limit a few connections above what the launcher needs, far below the endpoint's 64.
        const int limit = 64;
        using var launcher = run.Start("prlimit", $"--nofile={limit}:{limit}");
        var lines = new BlockingCollection<string>();
        var stdout = Task.Run(async () =>
        {
            while (await launcher.StandardOutput.ReadLineAsync() is { } line)
                lines.Add(line);
            lines.CompleteAdding();
        });
        var stderr = launcher.StandardError.ReadToEndAsync();
        launcher.StandardInput.Close();
        try
        {
            await Http.WaitForPhaseAsync(port, "running", launcher);
        }
        catch (InvalidOperationException e)
        {
            await stdout;
            throw new InvalidOperationException($"{e.Message}; stdout: {string.Join(" | ", lines)}; stderr: {await stderr}");
        }
        int free = limit - OpenFds(launcher.Id);
        Assert.InRange(free, 4, HealthEndpoint.MaxConnections - 1); // so the limit, not the cap, stops the endpoint

        var idle = new List<TcpClient>();
        try
        {
            for (int i = 0; i < free + 8; i++)
            {
                var client = new TcpClient();
                idle.Add(client);
                _ = client.ConnectAsync(IPAddress.Loopback, port);
            }
            string warning = WaitForLine(lines, l => l.Contains("cannot accept connections"));
            // .NET names EMFILE and ENFILE alike ("Too many open files in system").
            Assert.StartsWith("[trainlauncher] warning: the health endpoint cannot accept connections: Too many open files", warning);
            Assert.EndsWith("; it retries", warning);
        }
        finally
        {
            foreach (var client in idle)
                client.Dispose();
        }

        Assert.Equal(200, await ProbeUntilAnsweredAsync(port));
        Assert.Equal("[trainlauncher] the health endpoint accepts connections again",
            WaitForLine(lines, l => l.Contains("accepts connections again")));
        File.WriteAllText(dir["go"], "");
        await launcher.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        await stdout;
        Assert.True(launcher.ExitCode == 0, await stderr);
    }

    /// <summary>A launcher with the endpoint on a free port of 127.0.0.1, whose command waits for the file go.</summary>
    private static (LauncherRun Run, int Port) EndpointRun(TempDir dir)
    {
        int port = Http.FreePort();
        return (new LauncherRun(dir).Args("--health-port", port.ToString(), "--health-bind", "127.0.0.1").Dummy("waitfile", dir["go"]), port);
    }

    private static int OpenFds(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;

    private static string WaitForLine(BlockingCollection<string> lines, Func<string, bool> match)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        foreach (var line in lines.GetConsumingEnumerable(deadline.Token))
        {
            if (match(line))
                return line;
        }
        throw new InvalidOperationException("the launcher's output ended without the line");
    }

    /// <summary>GET /health until a status comes back; each try has a few seconds, all of them a minute.</summary>
    private static async Task<int> ProbeUntilAnsweredAsync(int port)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(3));
                using var client = new HttpClient();
                using var response = await client.GetAsync($"http://127.0.0.1:{port}/health", attempt.Token);
                return (int)response.StatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException && clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(50);
            }
        }
    }
}
