namespace TrainLauncher.Launch;

/// <summary>SPEC 11's phases, in the order a run passes through them.</summary>
internal enum LaunchPhase { Starting, Decrypting, Fetching, Running, Uploading, Done }

/// <summary>Where the run is now; read by anything that reports on it.</summary>
internal sealed class RunState
{
    private volatile int _phase;

    public LaunchPhase Phase
    {
        get => (LaunchPhase)_phase;
        set => _phase = (int)value;
    }

    public static string Name(LaunchPhase phase) => phase.ToString().ToLowerInvariant();
}
