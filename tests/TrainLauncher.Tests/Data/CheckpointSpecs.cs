using System.Text.Json;
using TrainLauncher.Tests.Storage.Support;
using TrainLauncher.Tests.Support;
using static TrainLauncher.Tests.Supervision.Supervised;

namespace TrainLauncher.Tests.Data;

/// <summary>--checkpoint-dir ↔ --checkpoint-url (issue 15) against s3rver, with a job that
/// resumes from the newest checkpoint it finds, as a training script would.</summary>
public class CheckpointSpecs(S3rverFixture s3) : IClassFixture<S3rverFixture>, IAsyncLifetime
{
    private const string Bucket = "ckpt";

    // Resumes from the newest step-N.pt, then writes one step every 0.1 s until LIMIT or SIGTERM;
    // on SIGTERM it writes the step it was on (its "last checkpoint") and exits 0.
    private const string Train = """
        import os, signal, sys, time
        d, limit = sys.argv[1], int(sys.argv[2])
        os.makedirs(d, exist_ok=True)
        steps = [int(n[5:-3]) for n in os.listdir(d) if n.startswith('step-') and n.endswith('.pt')]
        step = max(steps, default=0)
        print('resumed from step', step, flush=True)
        stop = []
        signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
        while not stop and step < limit:
            step += 1
            with open(os.path.join(d, f'step-{step}.pt'), 'w') as f:
                f.write(str(step) * 1000)
            print('step', step, flush=True)
            time.sleep(0.1)
        print('last step', step, flush=True)
        """;

    private readonly TempDir dir = new();

    public async Task InitializeAsync()
    {
        dir.Write("train.py", Train);
        using var raw = s3.RawClient();
        if ((await raw.ListBucketsAsync()).Buckets?.Any(b => b.BucketName == Bucket) != true)
            await s3.CreateBucketAsync(Bucket);
    }

    public Task DisposeAsync()
    {
        dir.Dispose();
        return Task.CompletedTask;
    }

    private LauncherRun Job(string name, string prefix, int limit, params string[] options)
    {
        var run = new LauncherRun(dir).Set("DLS_USER_JOB_DIR", dir[$"{name}/job"]).Set("TRAINLAUNCHER_LOG_FILE", dir[$"{name}/task.log"]);
        WithStore(run);
        return run.Set("DLS_TRAIN_URL", $"obs://{Bucket}/{prefix}/")
            .Args(["--checkpoint-dir", "ckpt", "--checkpoint-every", "0.5", .. options, Repo.Python, dir["train.py"], "ckpt", limit.ToString()]);
    }

    /// <summary>The class's s3rver as the launcher's object store.</summary>
    private LauncherRun WithStore(LauncherRun run)
    {
        foreach (var (key, value) in S3rverFixture.Environment(s3.Endpoint)) run.Set(key, value);
        return run;
    }

    private static int LastStep(string log) =>
        int.Parse(log.Split('\n').Last(l => l.StartsWith("last step ", StringComparison.Ordinal))["last step ".Length..]);

    [Fact]
    public async Task A_job_stopped_by_SIGTERM_mid_run_resumes_in_a_second_launcher_from_its_last_checkpoint()
    {
        int port = Http.FreePort();
        var first = Job("first", "resume", 100000, "--health-port", port.ToString(), "--health-bind", "127.0.0.1");
        using var launcher = first.Start();
        var collecting = first.CollectAsync(launcher, TimeSpan.FromSeconds(90));
        // A periodic sync has uploaded settled checkpoints (files 2 s old) while the job runs.
        await WaitUntilAsync(() => s3.KeysAsync(Bucket, "resume/checkpoints/").GetAwaiter().GetResult().Count >= 3, launcher, "three synced checkpoints");
        var status = await Http.StatusAsync(port);
        Assert.Equal(JsonValueKind.String, status.GetProperty("last_checkpoint_sync").ValueKind);
        TrainLauncher.Tests.Supervision.Signals.Send(launcher.Id, "SIGTERM");
        var stopped = await collecting;

        Assert.Equal(0, stopped.ExitCode);
        int last = LastStep(stopped.Log);
        // The last sync after the command took every checkpoint, the newest (seconds old) included.
        var keys = await s3.KeysAsync(Bucket, "resume/checkpoints/");
        Assert.Equal(Enumerable.Range(1, last).Select(i => $"resume/checkpoints/step-{i}.pt").Order(), keys.Order());
        Assert.Equal(string.Concat(Enumerable.Repeat(last.ToString(), 1000)),
            System.Text.Encoding.UTF8.GetString(await s3.ReadObjectAsync(Bucket, $"resume/checkpoints/step-{last}.pt")));
        Assert.Contains(stopped.Messages, l => l.StartsWith("[trainlauncher]   checkpoints  restored -; synced ", StringComparison.Ordinal) && l.EndsWith($", {last} files", StringComparison.Ordinal));
        Assert.Contains(stopped.Messages, l => l.Contains($"checkpoints: nothing under obs://{Bucket}/resume/checkpoints/ to restore; the job starts fresh"));

        var second = await Job("second", "resume", last + 2).RunAsync(TimeSpan.FromSeconds(90));
        Assert.Equal(0, second.ExitCode);
        Assert.Contains($"resumed from step {last}\n", second.Log);
        Assert.Contains($"last step {last + 2}\n", second.Log);
        Assert.Contains(second.Messages, l => l.StartsWith($"[trainlauncher]   checkpoints  restored ", StringComparison.Ordinal) && l.Contains($", {last} files; synced "));
        // Only what changed went up again: the two new steps, not the restored ones.
        Assert.Contains(second.Messages, l => l.StartsWith("[trainlauncher]   checkpoints  restored ", StringComparison.Ordinal) && l.EndsWith(", 2 files", StringComparison.Ordinal));
    }

    // Writes model.pt, then waits at each step for the test's go file; every mtime is set 10 s
    // back, so each version is settled at once for the periodic sync.
    private const string Rewrites = """
        import os, sys, time
        d, go = sys.argv[1], sys.argv[2]
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, 'model.pt')
        def settle():
            t = time.time() - 10
            os.utime(p, (t, t))
        def step(name):
            settle()
            print(name, flush=True)
            while not os.path.exists(os.path.join(go, name)):
                time.sleep(0.02)
        with open(p, 'w') as f: f.write('a' * 1000)
        step('written')
        step('touched')
        step('touched again')
        with open(p, 'w') as f: f.write('b' * 1000)
        settle()
        print('rewritten', flush=True)
        """;

    [Fact]
    public async Task A_checkpoint_touched_without_new_bytes_is_sent_at_most_once_more_and_one_rewritten_at_the_same_size_is_sent()
    {
        dir.Write("rewrites.py", Rewrites);
        Directory.CreateDirectory(dir["go"]);
        int port = Http.FreePort();
        var run = new LauncherRun(dir).Set("DLS_USER_JOB_DIR", dir["same/job"]);
        WithStore(run);
        run.Args("--checkpoint-dir", "ckpt", "--checkpoint-url", $"s3://{Bucket}/same/", "--checkpoint-every", "0.2",
            "--health-port", port.ToString(), "--health-bind", "127.0.0.1", Repo.Python, dir["rewrites.py"], "ckpt", dir["go"]);
        using var launcher = run.Start();
        var collecting = run.CollectAsync(launcher, TimeSpan.FromSeconds(90));
        string stdout = dir[$"stdout-{launcher.Id}"];
        string LastSync() => Http.StatusAsync(port).GetAwaiter().GetResult().GetProperty("last_checkpoint_sync").ToString();
        foreach (string step in new[] { "written", "touched", "touched again" })
        {
            await WaitUntilAsync(() => SharedFile.Read(stdout).Contains($"{step}\n"), launcher, $"the job's '{step}'");
            // Two passes after the step: the second one started after the step's file was settled.
            string before = LastSync();
            await WaitUntilAsync(() => LastSync() != before, launcher, "a sync pass");
            string after = LastSync();
            await WaitUntilAsync(() => LastSync() != after, launcher, "another sync pass");
            File.WriteAllText(Path.Combine(dir["go"], step), "");
        }
        var result = await collecting;

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(new string('b', 1000), System.Text.Encoding.UTF8.GetString(await s3.ReadObjectAsync(Bucket, "same/model.pt")));
        // Sent: the first version; once more at the first touch (what was sent had not been hashed
        // yet), never at the second; the rewrite of the same size. Size and mtime alone: 4.
        Assert.Contains(result.Messages, l => l.StartsWith("[trainlauncher]   checkpoints  restored -; synced ", StringComparison.Ordinal) && l.EndsWith(", 3 files", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Deleted_checkpoints_stay_in_the_store_unless_checkpoint_delete_is_given()
    {
        // First launch: steps 1..3 written, step-1 deleted before any sync (every 300 s): the last sync uploads 2 and 3.
        string script = $"{Repo.Python} {dir["train.py"]} ckpt 3 && rm ckpt/step-1.pt";
        foreach (var (prefix, delete) in new[] { ("keep", false), ("delete", true) })
        {
            var run = new LauncherRun(dir).Set("DLS_USER_JOB_DIR", dir[$"{prefix}/job"]);
            WithStore(run);
            run.Args(["--checkpoint-dir", "ckpt", "--checkpoint-url", $"s3://{Bucket}/{prefix}/", .. delete ? new[] { "--checkpoint-delete" } : [], "--shell", "--", script]);
            Assert.Equal(0, (await run.RunAsync()).ExitCode);
        }
        // Second launch in a fresh job dir: restores 2 and 3, the command deletes step-2, the last sync runs.
        foreach (var (prefix, delete) in new[] { ("keep", false), ("delete", true) })
        {
            var run = new LauncherRun(dir).Set("DLS_USER_JOB_DIR", dir[$"{prefix}/job2"]);
            WithStore(run);
            run.Args(["--checkpoint-dir", "ckpt", "--checkpoint-url", $"s3://{Bucket}/{prefix}/", .. delete ? new[] { "--checkpoint-delete" } : [], "--shell", "--", "rm ckpt/step-2.pt"]);
            Assert.Equal(0, (await run.RunAsync()).ExitCode);
        }
        Assert.Equal(new[] { "keep/step-2.pt", "keep/step-3.pt" }, (await s3.KeysAsync(Bucket, "keep/")).Order());
        Assert.Equal(new[] { "delete/step-3.pt" }, (await s3.KeysAsync(Bucket, "delete/")).Order());
    }

    [Theory]
    [InlineData(new[] { "--checkpoint-dir", "ckpt" }, "--checkpoint-dir is set but neither --checkpoint-url nor DLS_TRAIN_URL says where to: set one, or drop --checkpoint-dir")]
    [InlineData(new[] { "--checkpoint-dir", "ckpt", "--checkpoint-url", "/local/dir" }, "--checkpoint-url: malformed object storage URL '/local/dir': expected obs://bucket/prefix/ or s3://bucket/prefix/")]
    [InlineData(new[] { "--checkpoint-dir", ".", "--checkpoint-url", "obs://ckpt/x/" }, "--checkpoint-dir must name a directory of its own, not the job dir, one that holds it, or /, got '.'")]
    [InlineData(new[] { "--checkpoint-dir", "..", "--checkpoint-url", "obs://ckpt/x/" }, "--checkpoint-dir must name a directory of its own, not the job dir, one that holds it, or /, got '..'")]
    public async Task A_checkpoint_setting_that_cannot_work_is_125_with_one_line(string[] options, string message)
    {
        var result = await new LauncherRun(dir).Args([.. options, "true"]).RunAsync();
        Assert.Equal(125, result.ExitCode);
        Assert.Equal($"[trainlauncher] error: {message}", Assert.Single(result.Messages, l => l.Contains("error:")));
    }

    [Fact]
    public async Task The_plan_shows_the_sync_and_the_watchdog()
    {
        var run = new LauncherRun(dir);
        WithStore(run);
        var result = await run.Set("DLS_TRAIN_URL", "obs://ckpt/job7/")
            .Args("plan", "--checkpoint-dir", "ckpt", "--no-output-timeout", "600", "--no-output-action", "stop", "true").RunAsync();
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("checkpoints:  ", result.Stdout);
        Assert.Contains("/ckpt <-> obs://ckpt/job7/checkpoints/: restored before the command, then every 300 s what changed", result.Stdout);
        Assert.Contains("(size, mtime, a hash at equal size; files written in the last 2 s wait), one request at a time;", result.Stdout);
        Assert.Contains("deletions not propagated", result.Stdout);
        Assert.Contains("hang watch:   no output for 600 s: one warning, then the stop sequence (SIGTERM, grace, SIGKILL), status 124", result.Stdout);
    }
}
