namespace TrainLauncher.Tests.Support;

/// <summary>Waiting for an event, never for a fixed time: polls a condition, with a generous
/// bound that only turns a hang into a failure.</summary>
internal static class Wait
{
    public static async Task Until(Func<bool> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what}: not within {seconds} s");
            await Task.Delay(20);
        }
    }

    public static void Signal(int pid, string signal) =>
        System.Diagnostics.Process.Start("kill", [$"-{signal}", pid.ToString()])!.WaitForExit();
}
