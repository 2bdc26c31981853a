namespace TrainLauncher.Launch;

/// <summary>
/// What the launch ended with, carried to Program as data: on .NET 10 a faulted hosted service
/// still lets the host exit 0, so the status never comes from the host. Until the launch records
/// its end the outcome is the launcher's own failure, so a host that stopped early cannot pass
/// for a success.
/// </summary>
internal sealed class LaunchOutcome
{
    public int ExitStatus { get; private set; } = ExitCodes.LauncherFailure;

    /// <summary>The phase the run was in when it ended (before "done").</summary>
    public LaunchPhase EndedIn { get; private set; } = LaunchPhase.Starting;

    public string Reason { get; private set; } = "the launch did not finish";

    public void Record(int exitStatus, LaunchPhase endedIn, string reason) =>
        (ExitStatus, EndedIn, Reason) = (exitStatus, endedIn, reason);
}
