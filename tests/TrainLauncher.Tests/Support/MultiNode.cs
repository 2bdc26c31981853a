using Xunit.Abstractions;

namespace TrainLauncher.Tests.Support;

/// <summary>Launchers started together as the nodes of one job (DistributedSpecs, MpiSpecs).</summary>
internal static class MultiNode
{
    /// <summary>Starts every node's launcher behind its wrapper (say <c>ip netns exec NS</c>; none:
    /// the launcher itself), waits for all of them, each within <paramref name="bound"/>, and
    /// writes each node's status and stdout to the test's output.</summary>
    public static async Task<LauncherResult[]> RunAsync(
        IReadOnlyList<LauncherRun> runs, Func<int, string[]> wrapper, TimeSpan bound, ITestOutputHelper output)
    {
        var processes = runs.Select((run, rank) => run.Start(wrapper(rank))).ToArray();
        LauncherResult[] results;
        try
        {
            results = await Task.WhenAll(runs.Select((run, rank) => run.CollectAsync(processes[rank], bound)));
        }
        finally
        {
            foreach (var process in processes) process.Dispose();
        }

        for (int rank = 0; rank < results.Length; rank++)
        {
            output.WriteLine($"--- node {rank}: exit {results[rank].ExitCode}");
            output.WriteLine(results[rank].Stdout);
        }
        return results;
    }
}
