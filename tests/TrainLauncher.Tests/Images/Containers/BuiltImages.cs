using System.Diagnostics;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Images.Containers;

/// <summary>
/// Builds the images once for the "images" collection (tests/images/build.sh: buildah, a
/// stand-in ModelArts base, docker/Dockerfile.cpu with LAUNCHER=prebuilt, the batch and the
/// example image, one that breaks the rules) and runs podman with the same storage. The
/// launcher in the images is the published artifacts/bin/trainlauncher.
/// </summary>
public sealed class BuiltImages : IAsyncLifetime
{
    public const string LauncherCpu = "localhost/tl-launcher-cpu:test";
    public const string LauncherCpuArm64 = "localhost/tl-launcher-cpu-arm64:test";
    public const string Batch = "localhost/tl-batch:test";
    public const string Custom = "localhost/tl-custom:test";

    public string Dir { get; } = Path.Combine(Repo.Root, "artifacts", "images");
    public string Archive(string name) => Path.Combine(Dir, name + ".oci.tar");
    /// <summary>How long the build took (setup, base from cache or not, every image, archives).</summary>
    public TimeSpan BuildTime { get; private set; }
    private string[] podmanArgs = [];

    public async Task InitializeAsync()
    {
        string launcher = Path.Combine(Repo.Root, "artifacts", "bin", "trainlauncher");
        if (!File.Exists(launcher))
            throw new InvalidOperationException($"{launcher} is missing: dotnet publish src/TrainLauncher -c Release -o artifacts/bin (tests/run.sh does it)");
        var clock = Stopwatch.StartNew();
        await RunScriptAsync("tests/setup/images.sh");
        await RunScriptAsync("tests/images/build.sh", Dir);
        BuildTime = clock.Elapsed;
        podmanArgs = File.ReadAllLines(Path.Combine(Dir, "podman-args"));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>podman with the images' storage; the output is stdout then stderr.</summary>
    public Task<(int Code, string Output)> PodmanAsync(params string[] args) => RunAsync("podman", [.. podmanArgs, .. args], TimeSpan.FromMinutes(3));

    private static async Task RunScriptAsync(string script, params string[] args)
    {
        var (code, output) = await RunAsync("bash", [Path.Combine(Repo.Root, script), .. args], TimeSpan.FromMinutes(30));
        File.WriteAllText(Path.Combine(Repo.Root, "artifacts", Path.GetFileNameWithoutExtension(script) + ".log"), output);
        if (code != 0) throw new InvalidOperationException($"{script} failed with {code}:\n{output}");
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, string[] args, TimeSpan limit)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {limit}: {await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}

[CollectionDefinition("images")]
public sealed class ImagesCollection : ICollectionFixture<BuiltImages>;
