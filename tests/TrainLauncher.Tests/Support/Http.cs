using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace TrainLauncher.Tests.Support;

/// <summary>Plain HTTP against a launcher's health endpoint on 127.0.0.1.</summary>
internal static class Http
{
    private static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>A port nobody listens on right now: bind port 0, read what the system chose, let go.</summary>
    public static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    public static async Task<(int Status, string Body)> GetAsync(int port, string path)
    {
        using var response = await Client.GetAsync($"http://127.0.0.1:{port}{path}");
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static async Task<JsonElement> StatusAsync(int port) =>
        JsonDocument.Parse((await GetAsync(port, "/status")).Body).RootElement.Clone();

    /// <summary>Polls /status until the phase is <paramref name="phase"/> (the endpoint may not be up yet)
    /// and, when given, <paramref name="until"/> holds.</summary>
    public static async Task<JsonElement> WaitForPhaseAsync(int port, string phase, System.Diagnostics.Process launcher, Func<JsonElement, bool>? until = null)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        string last = "(no answer)";
        while (!deadline.IsCancellationRequested)
        {
            if (launcher.HasExited) throw new InvalidOperationException($"the launcher exited ({launcher.ExitCode}) while waiting for phase {phase}; last status {last}");
            try
            {
                var status = await StatusAsync(port);
                last = status.ToString();
                if (status.GetProperty("phase").GetString() == phase && (until is null || until(status))) return status;
            }
            catch (HttpRequestException) { }
            await Task.Delay(20);
        }
        throw new TimeoutException($"phase {phase} never came; last status {last}");
    }
}

/// <summary>Shell scripts that stand in for a dls tool but first wait until a file exists.</summary>
internal static class WaitingTool
{
    /// <summary>Waits for <paramref name="release"/>, then runs <paramref name="then"/> with the same arguments.</summary>
    public static string Create(TempDir dir, string name, string release, string then) =>
        Script(dir, name, $"while [ ! -e '{release}' ]; do sleep 0.02; done\nexec '{then}' \"$@\"\n");

    public static string Script(TempDir dir, string name, string body)
    {
        var path = dir.Write($"tools/{name}", "#!/bin/sh\n" + body);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
