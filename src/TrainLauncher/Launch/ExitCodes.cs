namespace TrainLauncher.Launch;

/// <summary>SPEC section 10: the launcher's own statuses; the command's status passes through.</summary>
internal static class ExitCodes
{
    public const int LauncherFailure = 125;
    public const int CannotExecute = 126;
    public const int NotFound = 127;
    public const int FetchFailed = 127;
    public const int SignalBase = 128;
}

/// <summary>A failure that ends the launch with one line for the user and a fixed status.</summary>
internal sealed class LaunchFailure(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public static LaunchFailure Setup(string message) => new(ExitCodes.LauncherFailure, message);
}
