namespace TrainLauncher.Tests.Support;

/// <summary>Paths of the repository and of what the tests run.</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>The launcher under test: $TRAINLAUNCHER_BIN (the published native binary in CI), else the build output.</summary>
    public static string Launcher { get; } =
        Environment.GetEnvironmentVariable("TRAINLAUNCHER_BIN") is { Length: > 0 } bin
            ? Path.GetFullPath(bin)
            : Path.Combine(Root, "src/TrainLauncher/bin/Debug/net10.0/trainlauncher");

    /// <summary>The published native binaries (tests/run.sh publishes both): linux-x64 and
    /// linux-arm64, the latter run under qemu-aarch64-static.</summary>
    public static string PublishedX64 { get; } = PublishedBinary("TRAINLAUNCHER_BIN", "artifacts/bin/trainlauncher");
    public static string PublishedArm64 { get; } = PublishedBinary("TRAINLAUNCHER_ARM64_BIN", "artifacts/bin-arm64/trainlauncher");

    /// <summary>Stand-ins for the platform's dls-* tools.</summary>
    public static string StandInTools { get; } = Path.Combine(Root, "tests/tools/standins");

    public static string Dummy { get; } = Path.Combine(Root, "tests/tools/dummy.py");

    /// <summary>Debian's python3: the pyenv shim on PATH is a slow shell script.</summary>
    public const string Python = "/usr/bin/python3";

    private static string PublishedBinary(string variable, string relative) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } bin ? Path.GetFullPath(bin) : Path.Combine(Root, relative);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "TrainLauncher.sln"))) return dir.FullName;
        throw new InvalidOperationException("TrainLauncher.sln not found above " + AppContext.BaseDirectory);
    }
}
