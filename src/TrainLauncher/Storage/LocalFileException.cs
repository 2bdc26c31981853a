using System.Runtime.InteropServices;
using TrainLauncher.Output;

namespace TrainLauncher.Storage;

/// <summary>
/// A local file could not be read or written (permission, gone, not a regular file, full disk).
/// Never retried as a network error and never an <see cref="IOException"/>, so the retry policy
/// cannot mistake it for a broken connection. <see cref="Exception.Message"/> is the reason alone
/// ("Permission denied"); the caller names the file.
/// </summary>
internal sealed class LocalFileException(string reason, Exception? inner = null) : Exception(reason, inner)
{
    /// <summary>The OS's own words for a .NET file-system exception, with no path in them.</summary>
    public static LocalFileException From(Exception error) => error switch
    {
        LocalFileException local => local,
        UnauthorizedAccessException => new("Permission denied", error),
        FileNotFoundException or DirectoryNotFoundException => new("No such file or directory", error),
        // On Unix .NET puts the errno in HResult of the IOExceptions it makes from a failed call.
        IOException { HResult: > 0 and < 4096 } io => new(Marshal.GetPInvokeErrorMessage(io.HResult), error),
        _ => new(OneLine.Escape(error.Message), error),
    };
}
