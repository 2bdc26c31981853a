using TrainLauncher.Tests.Support;
using TrainLauncher.Variables;

namespace TrainLauncher.Tests.Variables;

/// <summary>SPEC 3.4: other jobs' variables removed, this job's and the accelerators' kept.</summary>
public class ScrubSpecs
{
    [Theory]
    [InlineData("ABC123_20240101_TOKEN", null, true)]
    [InlineData("A1B2C3_12345678_X", "zzz-9", true)]
    [InlineData("KUBERNETES_SERVICE_HOST", null, true)]
    [InlineData("KUBERNETES_PORT", "job", true)]
    [InlineData("abc123_20240101_TOKEN", null, false)]   // lower case: not the pattern
    [InlineData("ABC12_20240101_TOKEN", null, false)]     // five characters
    [InlineData("ABC123_2024010_TOKEN", null, false)]     // seven digits
    [InlineData("ABC123_20240101TOKEN", null, false)]     // no underscore after the date
    [InlineData("XKUBERNETES_PORT", null, false)]
    [InlineData("PATH", null, false)]
    [InlineData("ABC123_20240101_TOKEN", "abc123-20240101", false)]  // this job's own
    [InlineData("ABC123_20240101_TOKEN", "ABC123", false)]
    [InlineData("ABC124_20240101_TOKEN", "abc123-20240101", true)]
    public void Scrub_rule(string name, string? jobId, bool removed) =>
        Assert.Equal(removed, EnvScrubber.ShouldRemove(name, jobId));

    [Fact]
    public async Task The_command_gets_no_foreign_job_variables_but_keeps_its_own_and_the_accelerators()
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir)
            .Set("DLS_JOB_ID", "ab12cd-20240101")
            .Set("ZZ99ZZ_20231231_SECRET", "foreign")
            .Set("AB12CD_20240101_MINE", "own")
            .Set("KUBERNETES_SERVICE_HOST", "10.0.0.1")
            .Set("CUDA_VISIBLE_DEVICES", "0,1")
            .Set("NVIDIA_VISIBLE_DEVICES", "all")
            .Set("ASCEND_VISIBLE_DEVICES", "0")
            .Set("ASCEND_RT_VISIBLE_DEVICES", "0")
            .Set("NORMAL", "kept")
            .Dummy("env").RunAsync();
        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("ZZ99ZZ_20231231_SECRET", result.Log);
        Assert.DoesNotContain("KUBERNETES_SERVICE_HOST", result.Log);
        Assert.Contains("AB12CD_20240101_MINE=own\n", result.Log);
        Assert.Contains("CUDA_VISIBLE_DEVICES=0,1\n", result.Log);
        Assert.Contains("NVIDIA_VISIBLE_DEVICES=all\n", result.Log);
        Assert.Contains("ASCEND_VISIBLE_DEVICES=0\n", result.Log);
        Assert.Contains("ASCEND_RT_VISIBLE_DEVICES=0\n", result.Log);
        Assert.Contains("NORMAL=kept\n", result.Log);
    }

    [Fact]
    public async Task The_command_gets_the_job_dir_first_on_PYTHONPATH_and_unbuffered_python()
    {
        using var dir = new TempDir();
        var run = new LauncherRun(dir).Set("PYTHONPATH", "/opt/lib").Dummy("env");
        var result = await run.RunAsync();
        Assert.Contains($"PYTHONPATH={run.JobDir}:/opt/lib\n", result.Log);
        Assert.Contains("PYTHONUNBUFFERED=1\n", result.Log);
    }
}
