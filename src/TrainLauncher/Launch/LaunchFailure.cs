namespace TrainLauncher.Launch;

/// <summary>A failure that ends the launch with one line for the user and a fixed status.</summary>
internal sealed class LaunchFailure(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public static LaunchFailure Setup(string message) => new(ExitCodes.LauncherFailure, message);
}
