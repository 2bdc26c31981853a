using System.Diagnostics;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Bench;

/// <summary>The bench scripts refuse what they do not understand before measuring anything: a
/// figure that was not measured is never printed as a number (issue 13: `run.sh --quick` once
/// passed `--quick` on to signals.sh, which printed "tries 0, median 0.000 ms").</summary>
public class BenchScriptSpecs
{
    [Theory]
    [InlineData("run.sh", "--fast")]
    [InlineData("signals.sh", "100")]
    [InlineData("storage.sh", "--tries")]
    public async Task A_bench_script_given_an_unknown_argument_exits_2_with_its_usage_and_prints_no_figure(string script, string argument)
    {
        var info = new ProcessStartInfo("bash", [Path.Combine(Repo.Root, "tests/bench", script), argument])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var bench = Process.Start(info)!;
        var stdout = bench.StandardOutput.ReadToEndAsync();
        string stderr = await bench.StandardError.ReadToEndAsync();
        await bench.WaitForExitAsync();

        Assert.Equal(2, bench.ExitCode);
        Assert.StartsWith($"usage: tests/bench/{script} [--quick]", stderr);
        Assert.Equal("", await stdout);
    }
}
