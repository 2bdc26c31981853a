using System.Text;
using Microsoft.Extensions.Logging;

namespace TrainLauncher.Reporting;

/// <summary>
/// Writes the termination message where Kubernetes reads it (terminationMessagePath). The
/// default /dev/termination-log is used only when it already exists (the kubelet mounts it):
/// creating it elsewhere would leave a stray file in /dev. Failure policy: may fail — an
/// unwritable explicit path is a warning, the exit status stays the run's own.
/// </summary>
internal static class TerminationLog
{
    public const string DefaultPath = "/dev/termination-log";

    /// <param name="path">the --termination-log value: null = the default, empty = none.</param>
    public static void Write(string? path, string message, ILogger log)
    {
        if (path is { Length: 0 }) return;
        try
        {
            var mode = path is null ? FileMode.Truncate : FileMode.Create;
            using var file = new FileStream(path ?? DefaultPath, mode, FileAccess.Write);
            file.Write(Encoding.UTF8.GetBytes(message));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (path is not null) log.TerminationLogFailed(path, e.Message);
        }
    }
}
