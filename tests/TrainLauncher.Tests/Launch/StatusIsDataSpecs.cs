using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Launch;

/// <summary>
/// Issue 12, "the status is data to the end": once the command has run, a failure of a later
/// step (the output upload's listing, the log upload) is one warning line; the command's status,
/// the run summary and the termination message stay. (The log's own faults: Output/LogFaultSpecs.)
/// </summary>
public class StatusIsDataSpecs
{
    [Fact]
    public async Task An_output_dir_deeper_than_PATH_MAX_costs_a_warning_not_the_status()
    {
        using var dir = new TempDir();
        var run = new LauncherRun(dir).Args("--termination-log", dir["termination"], "--downloader", "builtin", "--output-dir", "out")
            .Set("OBS_ENDPOINT", $"http://127.0.0.1:{Http.FreePort()}").Set("AWS_ACCESS_KEY_ID", "id").Set("AWS_SECRET_ACCESS_KEY", "key")
            .Set("DLS_TRAIN_URL", "obs://bucket/train/");
        try
        {
            // 25 directories of 200 characters: a path of 5,000 bytes, longer than PATH_MAX (4,096).
            var result = await run.Args(Repo.Python, "-c",
                "import os\nos.makedirs('out', exist_ok=True); os.chdir('out')\n" +
                "for _ in range(25): os.mkdir('d' * 200); os.chdir('d' * 200)\n" +
                "open('deep.txt', 'w').close(); print('trained'); raise SystemExit(2)").RunAsync();

            StatusAssert.KeptToTheEnd(result, 2, dir["termination"]);
            Assert.Contains(result.Messages, l => l.Contains("warning: cannot read the directory") && l.Contains("File name too long"));
            Assert.EndsWith("last output:\ntrained\n", File.ReadAllText(dir["termination"]));
        }
        finally
        {
            // .NET's recursive delete gives up on a path this long; rm does not.
            System.Diagnostics.Process.Start("rm", ["-rf", run.JobDir])!.WaitForExit();
        }
    }

    [Fact]
    public async Task A_log_upload_tool_that_cannot_start_costs_a_warning_and_a_log_line_not_the_status()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["tools"]);
        string tool = dir["tools/dls-downloader"];
        File.Copy(Path.Combine(Repo.StandInTools, "dls-downloader"), tool);
        File.SetUnixFileMode(tool, (UnixFileMode)0b111_101_101);
        var run = new LauncherRun(dir).Args("--termination-log", dir["termination"])
            .Set("PATH", $"{dir["tools"]}:{Repo.StandInTools}:/usr/bin:/bin")
            .Set("DLS_USE_UPLOADER", "1").Set("DLS_UPLOAD_LOG_OBS_DIR", "obs://bucket/logs").Set("STANDIN_OBS_ROOT", dir["obs"]);
        // The command takes the tool away (a cleanup step, a mount gone): it was found at start.
        var result = await run.Args("--shell", "--", $"echo trained; rm '{tool}'; exit 4").RunAsync();

        StatusAssert.KeptToTheEnd(result, 4, dir["termination"]);
        Assert.Single(result.Messages, l => l.Contains("warning: the log upload failed"));
        Assert.StartsWith("trained\nLog upload error: ", result.Log);
    }
}
