namespace TrainLauncher.Images;

/// <summary>The input cannot be read as an image (exit 2). The message is the one line shown.</summary>
internal sealed class ImageFormatException(string message, Exception? inner = null) : Exception(message, inner);
