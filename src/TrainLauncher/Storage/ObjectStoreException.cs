namespace TrainLauncher.Storage;

/// <summary>
/// A storage failure or a bad storage setting. <see cref="Exception.Message"/> is one line
/// meant for the user (never a secret); the caller maps it to 125 (settings) or 127 (fetch).
/// </summary>
internal sealed class ObjectStoreException(string message, Exception? inner = null)
    : Exception(message, inner)
{
    /// <summary>What an upload had done when the store stopped it (files moved, skipped, failed).</summary>
    public TransferStats? Partial { get; init; }
}
