using System.Diagnostics;
using CsCheck;
using TrainLauncher.Fuzz;
using TrainLauncher.Tests.Support;
using Xunit.Abstractions;

namespace TrainLauncher.Tests.Fuzz;

/// <summary>
/// The fuzz targets of tests/fuzz as property tests, bounded to seconds: every committed seed,
/// seeds with byte-level edits, and structure-aware inputs. The property of each target: only
/// its documented outcome (a result or its one exception type with a one-line message),
/// within a time and allocation bound per input. A failure prints the input (base64) to add
/// to tests/fuzz/corpus once fixed; the long coverage-guided run is tests/fuzz/run.sh.
/// </summary>
public sealed class FuzzPropertySpecs(ITestOutputHelper output)
{
    private static readonly TimeSpan TimePerInput = TimeSpan.FromSeconds(30);
    private const long AllocationPerInput = 64L << 20;

    public static TheoryData<string> Targets => new(FuzzTargets.All.Keys);

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_seed_of_the_corpus_gives_the_documented_outcome(string target)
    {
        var corpus = FuzzCorpus.Of(target);
        Assert.NotEmpty(corpus.Seeds);
        foreach (var (name, bytes) in corpus.Seeds)
        {
            var error = Record.Exception(() => Bounded(target, bytes));
            Assert.True(error is null, $"{target}/{name}: {error}");
        }
    }

    [Theory]
    [InlineData("options", 3000)]
    [InlineData("cluster", 3000)]
    [InlineData("listing", 300)]
    [InlineData("image", 1500)]
    [InlineData("health", 20000)]
    [InlineData("ranktable", 3000)]
    [InlineData("errorfile", 5000)]
    public void Seeds_with_byte_level_edits_give_the_documented_outcome(string target, int inputs) =>
        Sample(target, InputGenerators.MutatedSeed(FuzzCorpus.Of(target)), inputs);

    [Fact]
    public void Any_launcher_arguments_and_variables_give_options_or_one_line() =>
        Sample("options", InputGenerators.Options, 5000);

    [Fact]
    public void Any_cluster_and_accelerator_variables_give_a_layout_or_one_line() =>
        Sample("cluster", InputGenerators.Cluster, 5000);

    [Fact]
    public void Any_listing_body_gives_a_fetch_or_one_ObjectStoreException_and_never_loops() =>
        Sample("listing", InputGenerators.Listing, 400);

    [Fact]
    public void An_image_with_JSON_of_any_shape_is_read_or_refused_with_one_line() =>
        Sample("image", InputGenerators.ImageWithJson(FuzzCorpus.Of("image")), 2000);

    [Fact]
    public void Any_request_bytes_get_one_of_the_endpoints_answers() =>
        Sample("health", InputGenerators.Health(FuzzCorpus.Of("health")), 20000);

    [Fact]
    public async Task The_fuzz_harness_builds()
    {
        // The afl-fuzz harness is not part of the solution; this keeps it compiling. The launcher's
        // Debug build it references is already there: the suite's own build made it.
        var start = new ProcessStartInfo("dotnet",
            ["build", Path.Combine(Repo.Root, "tests/fuzz/TrainLauncher.Fuzz"), "--no-dependencies", "--nologo", "-v", "quiet"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var build = Process.Start(start)!;
        var stderr = build.StandardError.ReadToEndAsync();
        string stdout = await build.StandardOutput.ReadToEndAsync();
        await build.WaitForExitAsync();
        Assert.True(build.ExitCode == 0, stdout + await stderr);
    }

    private void Sample(string target, Gen<byte[]> inputs, int count)
    {
        var clock = Stopwatch.StartNew();
        inputs.Sample(input => Bounded(target, input), iter: count,
            print: input => $"{input.Length} bytes, base64 {Convert.ToBase64String(input)}");
        output.WriteLine($"{target}: {count} inputs in {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>Runs a target with a time bound and, for what runs on its own thread, an allocation bound.</summary>
    private static void Bounded(string target, byte[] input)
    {
        long allocated = 0;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                FuzzTargets.All[target](input);
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            }
            catch (Exception e)
            {
                error = e;
            }
        }) { IsBackground = true };
        thread.Start();
        if (!thread.Join(TimePerInput))
            throw new FuzzFinding($"no outcome within {TimePerInput.TotalSeconds} s");
        if (error is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        if (allocated > AllocationPerInput)
            throw new FuzzFinding($"{allocated >> 20} MiB allocated for a {input.Length}-byte input");
    }
}
