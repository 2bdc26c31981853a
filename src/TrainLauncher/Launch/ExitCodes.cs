namespace TrainLauncher.Launch;

/// <summary>SPEC section 10: the launcher's own statuses; the command's status passes through.</summary>
internal static class ExitCodes
{
    /// <summary>As timeout(1): the hang watchdog stopped the command (--no-output-action stop).</summary>
    public const int Hung = 124;
    public const int LauncherFailure = 125;
    public const int CannotExecute = 126;
    public const int NotFound = 127;
    public const int FetchFailed = 127;
    public const int SignalBase = 128;
}
