namespace TrainLauncher.Storage;

/// <summary>
/// A downloaded or uploaded object whose size or MD5 differs from what the store said.
/// <paramref name="transient"/>: a body damaged on the way is worth another attempt; an object
/// that is not the one listed is not.
/// </summary>
internal sealed class ObjectIntegrityException(string message, bool transient) : Exception(message)
{
    public bool Transient { get; } = transient;
}
