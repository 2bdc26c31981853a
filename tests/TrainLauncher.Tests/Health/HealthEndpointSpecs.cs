using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using TrainLauncher.Health;
using TrainLauncher.Launch;
using TrainLauncher.Reporting;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Health;

/// <summary>SPEC 11: GET /health and /status over a real socket, in every phase of a real run.</summary>
public class HealthEndpointSpecs
{
    private static string Tool(string name) => Path.Combine(Repo.StandInTools, name);

    [Fact]
    public async Task Status_follows_the_run_through_every_phase()
    {
        using var dir = new TempDir();
        int port = Http.FreePort();
        dir.Write("code/train.py", "print('hi')\n");
        string Go(string step) => dir[$"go-{step}"];
        void Release(string step) => File.WriteAllText(Go(step), "");
        var downloader = WaitingTool.Script(dir, "downloader",
            $"if [ \"$1\" = -r ]; then w='{Go("fetch")}'; else w='{Go("upload")}'; fi\n"
            + $"while [ ! -e \"$w\" ]; do sleep 0.02; done\nexec '{Tool("dls-downloader")}' \"$@\"\n");
        var run = new LauncherRun(dir)
            .Set("DLS_USE_DNS_TCP", "1")
            .Set("DLS_DECRYPTOR_KEY_FILE", dir.Write("key", "standin-key\n"))
            .Set("DLS_AES__TOKEN", Cipher.Encrypt("t0ken"))
            .Set("DLS_APP_URL", dir["code"])
            .Set("DLS_USE_DOWNLOADER", "1")
            .Set("DLS_USE_UPLOADER", "1")
            .Set("DLS_UPLOAD_LOG_OBS_DIR", dir["uploads"])
            .Args("--health-port", port.ToString(), "--health-bind", "127.0.0.1",
                "--dls-dns-fixer", WaitingTool.Create(dir, "dns", Go("dns"), Tool("dls-dns-fixer")),
                "--dls-decryptor", WaitingTool.Create(dir, "decrypt", Go("decrypt"), Tool("dls-decryptor")),
                "--dls-downloader", downloader)
            .Dummy("waitfile", Go("run"));
        using var launcher = run.Start();
        var collecting = run.CollectAsync(launcher);

        var starting = await Http.WaitForPhaseAsync(port, "starting", launcher);
        Assert.Equal(launcher.Id, starting.GetProperty("pid").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, starting.GetProperty("exit_code").ValueKind);
        Assert.True(DateTimeOffset.TryParse(starting.GetProperty("started_at").GetString(), out _));
        Assert.True(starting.GetProperty("elapsed_s").GetDouble() >= 0);
        Assert.Equal((200, """{"health": "true"}"""), await Http.GetAsync(port, "/health"));

        Release("dns");
        await Http.WaitForPhaseAsync(port, "decrypting", launcher);
        Release("decrypt");
        await Http.WaitForPhaseAsync(port, "fetching", launcher);
        Release("fetch");
        // "running" starts just before the spawn: the pid turns into the command's a moment later.
        var running = await Http.WaitForPhaseAsync(port, "running", launcher, s => s.GetProperty("pid").GetInt32() != launcher.Id);
        int commandPid = running.GetProperty("pid").GetInt32();
        Assert.Contains("waitfile", File.ReadAllText($"/proc/{commandPid}/cmdline"));
        Assert.DoesNotContain("t0ken", running.ToString());
        Assert.Equal(200, (await Http.GetAsync(port, "/health")).Status);

        Release("run");
        var uploading = await Http.WaitForPhaseAsync(port, "uploading", launcher);
        Assert.Equal(0, uploading.GetProperty("exit_code").GetInt32());
        Assert.Equal(commandPid, uploading.GetProperty("pid").GetInt32());
        Assert.Equal(200, (await Http.GetAsync(port, "/health")).Status);

        Release("upload");
        var result = await collecting;
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Health_is_503_once_the_command_failed()
    {
        using var dir = new TempDir();
        int port = Http.FreePort();
        var run = new LauncherRun(dir)
            .Set("DLS_USE_UPLOADER", "1")
            .Set("DLS_UPLOAD_LOG_OBS_DIR", dir["uploads"])
            .Args("--health-port", port.ToString(), "--health-bind", "127.0.0.1",
                "--dls-downloader", WaitingTool.Create(dir, "uploader", dir["go-upload"], Tool("dls-downloader")))
            .Dummy("exit", "3");
        using var launcher = run.Start();
        var collecting = run.CollectAsync(launcher);

        var uploading = await Http.WaitForPhaseAsync(port, "uploading", launcher);
        Assert.Equal(3, uploading.GetProperty("exit_code").GetInt32());
        Assert.Equal((503, """{"health": "false"}"""), await Http.GetAsync(port, "/health"));

        File.WriteAllText(dir["go-upload"], "");
        Assert.Equal(3, (await collecting).ExitCode);
    }

    [Fact]
    public async Task A_busy_port_is_one_warning_and_the_job_runs_on()
    {
        using var dir = new TempDir();
        using var holder = new TcpListenerHolder();
        var result = await new LauncherRun(dir)
            .Args("--health-port", holder.Port.ToString(), "--health-bind", "127.0.0.1")
            .Dummy("pieces", "0", "trained\\n").RunAsync();
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("trained\n", result.Log);
        var warning = Assert.Single(result.Messages, l => l.Contains("health endpoint"));
        Assert.Equal($"[trainlauncher] warning: no health endpoint on 127.0.0.1:{holder.Port}: the port is in use; the job runs on without it", warning);
    }

    [Theory]
    [InlineData("--health-port", "http", "--health-port must be a port number 0-65535 (0: no health endpoint), got 'http'")]
    [InlineData("--health-port", "70000", "--health-port must be a port number 0-65535 (0: no health endpoint), got '70000'")]
    [InlineData("--health-bind", "localhost", "--health-bind must be an IP address such as 0.0.0.0, 127.0.0.1 or ::, got 'localhost'")]
    public async Task A_malformed_health_option_is_125_with_one_line(string option, string value, string error)
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Args(option, value, "true").RunAsync();
        Assert.Equal(125, result.ExitCode);
        Assert.Equal("[trainlauncher] error: " + error, Assert.Single(result.Messages));
    }

    [Fact]
    public async Task Port_0_means_no_endpoint()
    {
        using var dir = new TempDir();
        var options = new LaunchOptions { HealthPort = 0 };
        var endpoint = new HealthEndpoint(options, new RunState(), NullLogger.Instance);
        await endpoint.StartAsync(CancellationToken.None);
        Assert.False(endpoint.Listening.Task.IsCompleted);
        await endpoint.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Done_shows_the_final_status_and_other_requests_get_clear_errors()
    {
        int port = Http.FreePort();
        var state = new RunState { Phase = LaunchPhase.Done, ExitCode = 0 };
        using var endpoint = new HealthEndpoint(new LaunchOptions { HealthPort = port, HealthBind = "127.0.0.1" }, state,
            NullLogger.Instance);
        await endpoint.StartAsync(CancellationToken.None);
        Assert.Equal(port, await endpoint.Listening.Task);

        var done = await Http.StatusAsync(port);
        Assert.Equal("done", done.GetProperty("phase").GetString());
        Assert.Equal(0, done.GetProperty("exit_code").GetInt32());
        Assert.Equal(Environment.ProcessId, done.GetProperty("pid").GetInt32());
        Assert.Equal(200, (await Http.GetAsync(port, "/health?probe=1")).Status);
        state.ExitCode = 125;
        Assert.Equal(503, (await Http.GetAsync(port, "/health")).Status);
        Assert.Equal(404, (await Http.GetAsync(port, "/metrics")).Status);
        Assert.StartsWith("HTTP/1.1 405 ", await RawAsync(port, "POST /health HTTP/1.1\r\nHost: x\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 400 ", await RawAsync(port, "garbage\r\n\r\n"));
        await endpoint.StopAsync(CancellationToken.None);
    }

    private static async Task<string> RawAsync(int port, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return await reader.ReadToEndAsync();
    }

    private sealed class TcpListenerHolder : IDisposable
    {
        private readonly TcpListener _listener = new(System.Net.IPAddress.Loopback, 0);
        public TcpListenerHolder() => _listener.Start();
        public int Port => ((System.Net.IPEndPoint)_listener.LocalEndpoint).Port;
        public void Dispose() => _listener.Stop();
    }
}
