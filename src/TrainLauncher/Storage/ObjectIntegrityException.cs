namespace TrainLauncher.Storage;

/// <summary>A downloaded or uploaded object whose size or MD5 differs from what the store said.</summary>
internal sealed class ObjectIntegrityException(string message) : Exception(message);
