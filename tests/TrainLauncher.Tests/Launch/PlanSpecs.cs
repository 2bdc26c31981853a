using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Launch;

/// <summary>`trainlauncher plan`: what a run would do, validated as a run would, nothing changed.</summary>
public class PlanSpecs
{
    [Fact]
    public async Task The_plan_shows_every_decision_and_changes_nothing_on_disk()
    {
        using var dir = new TempDir();
        dir.Write("code/app/train.py", "");
        var run = new LauncherRun(dir)
            .Set("DLS_APP_URL", dir["code/app"])
            .Set("DLS_USE_UPLOADER", "1").Set("DLS_UPLOAD_LOG_OBS_DIR", "obs://b/logs").Set("DLS_DLKS_JOB_ID", "77")
            .Set("ZZ99ZZ_20231231_OLD", "x")
            .Set("DLS_DECRYPTOR_KEY_FILE", dir.Write("key", "standin-key\n"))
            .Set("DLS_AES__TOKEN", Cipher.Encrypt("hidden-value"))
            .Args("plan", "--stop-grace", "5", "python3", "train.py", "--lr", "0.1");
        var before = Directory.EnumerateFileSystemEntries(dir.Path, "*", SearchOption.AllDirectories).Count();
        var result = await run.RunAsync();

        Assert.Equal(0, result.ExitCode);
        string plan = result.Stdout;
        Assert.Contains($"job dir:      {run.JobDir} (working directory, created by the run)", plan);
        Assert.Contains("argv:         python3 train.py --lr 0.1", plan);
        Assert.Contains($"fetch:        copy {dir["code/app"]} -> {run.JobDir}/app", plan);
        Assert.Contains("log upload:", plan);
        Assert.Contains("-d obs://b/logs/dls-log-77", plan);
        Assert.Contains("decryption:", plan);
        Assert.Contains("dls-decryptor", plan);
        Assert.Contains("  - ZZ99ZZ_20231231_OLD", plan);
        Assert.Contains("  - DLS_AES__TOKEN", plan);
        Assert.Contains("  + TOKEN=****** (decrypted)", plan);
        Assert.Contains("  + PYTHONUNBUFFERED=1", plan);
        Assert.Contains("stop grace:   5 s", plan);
        Assert.DoesNotContain("hidden-value", plan);
        // Nothing new on disk beyond the test's own stdout capture.
        Assert.Equal(before + 1, Directory.EnumerateFileSystemEntries(dir.Path, "*", SearchOption.AllDirectories).Count());
        Assert.False(File.Exists(run.LogFile));
    }

    [Fact]
    public async Task The_plan_fails_exactly_as_a_run_would()
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Set("DLS_TASK_INDEX", "abc").Args("plan", "true").RunAsync();
        Assert.Equal(125, result.ExitCode);
        Assert.Contains(result.Messages, l => l.Contains("DLS_TASK_INDEX must be a whole number"));

        var secret = await new LauncherRun(dir).Set("DLS_KEY_ENDPOINT", "e").Set("DLS_KEY_JOB_ID", "j").Set("STANDIN_KEY_CLIENT", "fail")
            .Set("DLS_AES__X", Cipher.Encrypt("v")).Args("plan", "true").RunAsync();
        Assert.Equal(125, secret.ExitCode);
    }
}
