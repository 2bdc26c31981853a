namespace TrainLauncher.Tests.Support;

/// <summary>"The status is data": a run whose command ran ends with the command's status, its
/// summary and its termination message, whatever failed after the command.</summary>
internal static class StatusAssert
{
    public static void KeptToTheEnd(LauncherResult result, int status, string terminationLog)
    {
        Assert.True(result.ExitCode == status, $"exit status {result.ExitCode}, expected {status}:\n{result.Stdout}");
        Assert.DoesNotContain(result.Messages, l => l.Contains("internal error"));
        Assert.Contains(result.Messages, l => l == $"[trainlauncher]   exit status  {status}");
        Assert.StartsWith($"exit status {status} (phase ", File.ReadAllText(terminationLog));
    }
}
