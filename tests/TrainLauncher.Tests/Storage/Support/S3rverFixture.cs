using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using TrainLauncher.Storage;

namespace TrainLauncher.Tests.Storage.Support;

/// <summary>
/// A real s3rver (installed by tests/setup/s3rver.sh) on 127.0.0.1 and a free port, one per
/// test class, stopped by PID. It accepts only the key id S3RVER and checks no signature.
/// </summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    private System.Diagnostics.Process? server;

    public string DataDir { get; } = Directory.CreateTempSubdirectory("s3rver-").FullName;
    public int Port { get; private set; }
    public string Endpoint => $"http://127.0.0.1:{Port}";

    public async Task InitializeAsync()
    {
        var root = RepoRoot.Find();
        var script = Path.Combine(root, "tests", "setup", "s3rver.sh");
        using (var setup = System.Diagnostics.Process.Start(new ProcessStartInfo("bash", [script]))!)
        {
            await setup.WaitForExitAsync();
            if (setup.ExitCode != 0)
                throw new InvalidOperationException($"{script} failed with {setup.ExitCode}");
        }

        Port = FreePort();
        var start = new ProcessStartInfo("node",
        [
            Path.Combine(root, "tests", ".deps", "node_modules", "s3rver", "bin", "s3rver.js"),
            "-d", DataDir, "-a", "127.0.0.1", "-p", Port.ToString(), "--silent",
        ]);
        // Under Node 20 s3rver's listing past 1000 keys needs MD5 from the legacy provider.
        start.Environment["NODE_OPTIONS"] = "--openssl-legacy-provider";
        server = Process.Start(start)!;
        await WaitForPortAsync(Port, TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        if (server is { HasExited: false })
        {
            server.Kill();
            await server.WaitForExitAsync();
        }
        server?.Dispose();
        Directory.Delete(DataDir, recursive: true);
    }

    public static Dictionary<string, string> Environment(string endpoint, string keyId = "S3RVER") => new()
    {
        ["OBS_ENDPOINT"] = endpoint,
        ["AWS_ACCESS_KEY_ID"] = keyId,
        ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
    };

    internal ObjectStoreSettings Settings(string? endpoint = null, string keyId = "S3RVER") =>
        ObjectStoreSettings.Resolve(Environment(endpoint ?? Endpoint, keyId), transfersOption: "8");

    /// <summary>A plain SDK client straight to s3rver, to seed and check without the code under test.</summary>
    public AmazonS3Client RawClient() => new(
        new BasicAWSCredentials("S3RVER", "S3RVER"),
        new AmazonS3Config
        {
            ServiceURL = Endpoint,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });

    public async Task CreateBucketAsync(string name)
    {
        using var client = RawClient();
        await client.PutBucketAsync(name);
    }

    /// <summary>An object's bytes, read with the plain client; a missing key names the keys there are.</summary>
    public async Task<byte[]> ReadObjectAsync(string bucket, string key)
    {
        using var client = RawClient();
        try
        {
            using var response = await client.GetObjectAsync(bucket, key);
            using var body = new MemoryStream();
            await response.ResponseStream.CopyToAsync(body);
            return body.ToArray();
        }
        catch (AmazonS3Exception e)
        {
            throw new InvalidOperationException($"{key}: {e.Message}; keys here: {string.Join(", ", await KeysAsync(bucket, ""))}", e);
        }
    }

    /// <summary>The keys under <paramref name="prefix"/>, in order.</summary>
    public async Task<List<string>> KeysAsync(string bucket, string prefix)
    {
        using var client = RawClient();
        var listing = await client.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = bucket, Prefix = prefix });
        return (listing.S3Objects ?? []).Select(o => o.Key).Order(StringComparer.Ordinal).ToList();
    }

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task WaitForPortAsync(int port, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            if (server!.HasExited)
                throw new InvalidOperationException($"s3rver exited with {server.ExitCode} before listening");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }
}

internal static class RepoRoot
{
    public static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TrainLauncher.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("TrainLauncher.sln not found above " + AppContext.BaseDirectory);
    }
}
