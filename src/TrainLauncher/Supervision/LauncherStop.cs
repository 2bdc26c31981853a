namespace TrainLauncher.Supervision;

/// <summary>
/// The hang watchdog's stop and the command's status as one decision: a stop claimed before the
/// status is taken makes the status the launcher's (124); once the status is taken, no stop is
/// claimed. One lock for both, so a command that ended on its own never gets 124.
/// </summary>
internal sealed class LauncherStop
{
    private readonly Lock _lock = new();
    private bool _claimed;
    private bool _statusTaken;

    /// <summary>True when this call claims the stop (<paramref name="canStop"/>: something is left to stop).</summary>
    public bool TryClaim(Func<bool> canStop)
    {
        lock (_lock)
        {
            if (_statusTaken || _claimed || !canStop()) return false;
            return _claimed = true;
        }
    }

    /// <summary>Read once, when the command ended: whether the stop came first.</summary>
    public bool TakeStatus()
    {
        lock (_lock)
        {
            _statusTaken = true;
            return _claimed;
        }
    }
}
