using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Code;

/// <summary>SPEC 6 for local paths, file:// and dls-downloader: the code lands in the job dir
/// under its last path component, complete or not at all.</summary>
public class FetchSpecs
{
    private static string MakeCode(TempDir dir)
    {
        dir.Write("src/app/train.py", "print('from the fetched code')\n");
        dir.Write("src/app/pkg/util.py", "X = 1\n");
        File.CreateSymbolicLink(dir["src/app/link.py"], "train.py");
        File.SetUnixFileMode(dir["src/app/train.py"], UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return dir["src/app"];
    }

    [Theory]
    [InlineData("path")]
    [InlineData("file-url")]
    [InlineData("downloader")]
    public async Task The_code_dir_is_fetched_into_the_job_dir_and_the_command_runs_there(string how)
    {
        using var dir = new TempDir();
        string code = MakeCode(dir);
        var run = new LauncherRun(dir).Set("DLS_APP_URL", how == "file-url" ? "file://" + code + "/" : code);
        if (how == "downloader") run.Set("DLS_USE_DOWNLOADER", "1");
        var result = await run.Args(Repo.Python, "app/train.py").RunAsync();

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("from the fetched code\n", result.Log);
        Assert.Equal("X = 1\n", File.ReadAllText(Path.Combine(run.JobDir, "app/pkg/util.py")));
        Assert.Equal("train.py", new FileInfo(Path.Combine(run.JobDir, "app/link.py")).LinkTarget);
        Assert.True(File.GetUnixFileMode(Path.Combine(run.JobDir, "app/train.py")).HasFlag(UnixFileMode.UserExecute));
        Assert.Empty(Directory.GetDirectories(run.JobDir, ".trainlauncher-fetch-*"));
        Assert.Contains(result.Messages, l => l.Contains("fetched") && l.Contains(" 2 files")); // the summary counts the two regular files
        if (how == "downloader")
            Assert.Contains($"dls-downloader: {code}", result.Stdout); // its output is shown (and kept in /tmp/dls-downloader.log)
    }

    [Fact]
    public async Task A_second_fetch_replaces_the_code_of_an_earlier_run()
    {
        using var dir = new TempDir();
        string code = MakeCode(dir);
        var run = new LauncherRun(dir).Set("DLS_APP_URL", code);
        Directory.CreateDirectory(Path.Combine(run.JobDir, "app"));
        File.WriteAllText(Path.Combine(run.JobDir, "app/stale.py"), "old");
        var result = await run.Args("true").RunAsync();
        Assert.Equal(0, result.ExitCode);
        Assert.False(File.Exists(Path.Combine(run.JobDir, "app/stale.py")));
        Assert.True(File.Exists(Path.Combine(run.JobDir, "app/train.py")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_failed_fetch_logs_the_reason_exits_127_and_leaves_nothing_in_the_job_dir(bool viaDownloader)
    {
        using var dir = new TempDir();
        var run = new LauncherRun(dir).Set("DLS_APP_URL", dir["missing/app"]);
        if (viaDownloader) run.Set("DLS_USE_DOWNLOADER", "1");
        var result = await run.Args("--shell", "touch", dir["ran"]).RunAsync();

        Assert.Equal(127, result.ExitCode);
        Assert.False(File.Exists(dir["ran"]));
        Assert.StartsWith("App download error: ", result.Log);
        Assert.Contains(viaDownloader ? "dls-downloader exited with status 1" : "no such file or directory", result.Log);
        Assert.Contains(result.Stdout.Split('\n'), l => l.StartsWith("App download error: "));
        Assert.Empty(Directory.EnumerateFileSystemEntries(run.JobDir));
    }

    [Theory]
    [InlineData("single-file")]
    [InlineData("move-into-place")]
    public async Task A_local_fetch_that_fails_on_the_file_system_gives_127_with_one_App_download_error_line(string fault)
    {
        using var dir = new TempDir();
        var run = new LauncherRun(dir);
        if (fault == "single-file")
        {
            // Root-owned and unreadable: the launcher runs as another user.
            run.Set("DLS_APP_URL", dir.Write("src/model.py", "print(1)\n"));
            File.SetUnixFileMode(dir["src/model.py"], UnixFileMode.None);
        }
        else
        {
            // An earlier copy of app/ that this user cannot remove: app/keep/ is root's.
            run.Set("DLS_APP_URL", MakeCode(dir));
            File.SetUnixFileMode(dir["src/app/train.py"], (UnixFileMode)0b111_101_101); // the copy must work: the move is what fails
            LauncherRun.GiveToNobody(dir["home"]);
            LauncherRun.GiveToNobody(run.JobDir);
            LauncherRun.GiveToNobody(Path.Combine(run.JobDir, "app"));
            Directory.CreateDirectory(Path.Combine(run.JobDir, "app/keep"));
            File.WriteAllText(Path.Combine(run.JobDir, "app/keep/old.py"), "old");
        }
        var result = await run.Args("touch", dir["ran"]).RunAsNobodyAsync();

        Assert.Equal(127, result.ExitCode);
        Assert.False(File.Exists(dir["ran"]));
        var line = Assert.Single(result.Log.Split('\n'), l => l.StartsWith("App download error: ", StringComparison.Ordinal));
        Assert.Contains("Permission denied", line);
        Assert.Contains(line, result.Stdout.Split('\n'));
    }

    [Fact]
    public async Task An_empty_app_url_means_no_fetch()
    {
        using var dir = new TempDir();
        var run = new LauncherRun(dir).Set("DLS_APP_URL", "");
        var result = await run.Args("pwd").RunAsync();
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(run.JobDir + "\n", result.Log);
        Assert.Empty(Directory.EnumerateFileSystemEntries(run.JobDir));
    }

    [Fact]
    public async Task The_log_upload_runs_through_dls_downloader_and_a_failure_is_appended_to_the_log()
    {
        using var dir = new TempDir();
        var ok = await new LauncherRun(dir).Set("DLS_USE_UPLOADER", "1").Set("DLS_UPLOAD_LOG_OBS_DIR", "obs://bucket/logs/")
            .Set("DLS_DLKS_JOB_ID", "job-7").Set("STANDIN_OBS_ROOT", dir["obs"]).Args("echo", "logged").RunAsync();
        Assert.Equal(0, ok.ExitCode);
        Assert.Equal("logged\n", File.ReadAllText(dir["obs/bucket/logs/dls-log-job-7/task.log"]));

        using var dir2 = new TempDir();
        var failed = await new LauncherRun(dir2).Set("DLS_USE_UPLOADER", "1").Set("DLS_UPLOAD_LOG_OBS_DIR", "obs://bucket/logs")
            .Args("--shell", "echo logged; exit 5").RunAsync(); // STANDIN_OBS_ROOT unset: the stand-in fails
        Assert.Equal(5, failed.ExitCode);
        Assert.StartsWith("logged\nLog upload error: dls-downloader exited with status", failed.Log);
    }

    [Fact]
    public async Task The_dns_fixer_runs_when_asked_and_its_failure_is_only_a_warning()
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Set("DLS_USE_DNS_TCP", "1").Set("STANDIN_DNS_MARK", dir["dns"])
            .Set("STANDIN_DNS_STATUS", "3").Args("true").RunAsync();
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("ran\n", File.ReadAllText(dir["dns"]));
        Assert.Contains(result.Messages, l => l.Contains("warning: dls-dns-fixer exited with status 3"));

        var off = await new LauncherRun(dir).Set("DLS_USE_DNS_TCP", "0").Set("STANDIN_DNS_MARK", dir["dns-off"]).Args("true").RunAsync();
        Assert.Equal(0, off.ExitCode);
        Assert.False(File.Exists(dir["dns-off"]));
    }

    [Fact]
    public async Task The_log_is_uploaded_even_when_the_command_could_not_start()
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Set("DLS_USE_UPLOADER", "1").Set("DLS_UPLOAD_LOG_OBS_DIR", "obs://bucket/logs")
            .Set("DLS_DLKS_JOB_ID", "j1").Set("STANDIN_OBS_ROOT", dir["obs"]).Args("no-such-program-xyz").RunAsync();
        Assert.Equal(127, result.ExitCode);
        Assert.True(File.Exists(dir["obs/bucket/logs/dls-log-j1/task.log"]));
    }
}
