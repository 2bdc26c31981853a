using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using TrainLauncher.Storage;
using TrainLauncher.Tests.Storage.Support;
using TrainLauncher.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace TrainLauncher.Tests.Logging;

/// <summary>
/// SPEC 13's JSON log on a real run: code fetched by the built-in client from s3rver, the
/// command run and stopped by SIGTERM, its output dir and the log uploaded. Every launcher line
/// is one event whose id and name are the catalogue's, whose @m is the text line's message, and
/// whose values are typed fields.
/// </summary>
public class JsonEventSpecs(S3rverFixture s3) : IClassFixture<S3rverFixture>, IAsyncLifetime
{
    private const string Bucket = "json";
    private const string App = "obs://json/jobs/app/";
    private static readonly Dictionary<string, int> Tree = new() { ["train.py"] = 1000, ["lib/util.py"] = 2345, ["data/w.bin"] = 70_000 };
    private static readonly long TreeBytes = Tree.Values.Sum();

    private readonly TempDir dir = new();

    public async Task InitializeAsync()
    {
        TestTree.Write(dir["source/app"], Tree);
        using var raw = s3.RawClient();
        if ((await raw.ListBucketsAsync()).Buckets?.Any(b => b.BucketName == Bucket) == true) return;
        await s3.CreateBucketAsync(Bucket);
        using var seed = new ObjectStore(s3.Settings());
        await seed.UploadDirectoryAsync(dir["source/app"], ObjectUrl.Parse(App), NullLogger.Instance, CancellationToken.None);
    }

    public Task DisposeAsync()
    {
        dir.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Name → (id, level) of every [LoggerMessage] method in the launcher.</summary>
    internal static Dictionary<string, (int Id, LogLevel Level)> Catalogue() =>
        typeof(TrainLauncher.Launch.LaunchOptions).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .Select(m => (Method: m, Event: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(e => e.Event is not null)
            .ToDictionary(e => e.Method.Name, e => (e.Event!.EventId, e.Event.Level));

    [Fact]
    public async Task Each_line_of_a_fetch_run_stop_upload_is_one_event_with_its_id_its_text_and_typed_fields()
    {
        string ready = dir["ready"];
        var run = new LauncherRun(dir);
        foreach (var (name, value) in S3rverFixture.Environment(s3.Endpoint)) run.Set(name, value);
        run.Set("DLS_APP_URL", App).Set("DLS_TRAIN_URL", $"obs://{Bucket}/train/")
            .Set("DLS_USE_UPLOADER", "1").Set("DLS_UPLOAD_LOG_OBS_DIR", $"obs://{Bucket}/logs").Set("DLS_DLKS_JOB_ID", "j7")
            .Args("--log-format", "json", "--downloader", "builtin", "--output-dir", "out", "--", "/bin/sh", "-c",
                "mkdir -p out; echo 'line one'; trap 'printf stopped > out/last.txt; exit 143' TERM; " +
                $"touch '{ready}'; while :; do sleep 0.05; done");
        using var launcher = run.Start();
        var collecting = run.CollectAsync(launcher);
        await TrainLauncher.Tests.Supervision.Supervised.WaitForFileAsync(ready, launcher);
        System.Diagnostics.Process.Start("kill", ["-TERM", launcher.Id.ToString()])!.WaitForExit();
        var result = await collecting;
        Assert.Equal(143, result.ExitCode);

        // The command's own lines pass unchanged (sh may add "Terminated" for its killed sleep).
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("line one", lines);
        var events = lines.Where(l => l.StartsWith("{\"@t\":", StringComparison.Ordinal)).Select(Parse).ToList();
        Assert.True(events.Count > 30, result.Stdout);
        var catalogue = Catalogue();
        foreach (var e in events)
        {
            var id = e.GetProperty("EventId");
            string name = id.GetProperty("Name").GetString()!;
            Assert.True(catalogue.TryGetValue(name, out var known), $"unknown event {e}");
            Assert.Equal(known.Id, id.GetProperty("Id").GetInt32());
            Assert.Equal(known.Id, e.GetProperty("@i").GetInt32());
            Assert.Equal(known.Level == LogLevel.Information ? null : known.Level.ToString(), e.TryGetProperty("@l", out var l) ? l.GetString() : null);
            Assert.DoesNotContain('"', e.GetProperty("@m").GetString()!);   // values are not quoted
            Assert.DoesNotContain('\n', e.GetProperty("@m").GetString()!);
            Assert.True(DateTimeOffset.TryParse(e.GetProperty("@t").GetString(), out _));
        }
        JsonElement One(string name) => Assert.Single(events, e => e.GetProperty("EventId").GetProperty("Name").GetString() == name);
        List<JsonElement> All(string name) => events.Where(e => e.GetProperty("EventId").GetProperty("Name").GetString() == name).ToList();
        static void Text(JsonElement e, string text) => Assert.Equal(text, e.GetProperty("@m").GetString());
        static void Number(JsonElement e, string field, double value) =>
            Assert.True(e.GetProperty(field) is { ValueKind: JsonValueKind.Number } n && n.GetDouble() == value, $"{field} in {e}");
        static double Positive(JsonElement e, string field) =>
            e.GetProperty(field) is { ValueKind: JsonValueKind.Number } n && n.GetDouble() >= 0 ? n.GetDouble() : throw new Xunit.Sdk.XunitException($"{field} in {e}");
        static void String(JsonElement e, string field, string value) => Assert.Equal(value, e.GetProperty(field).GetString());

        var header = One("HeaderJobDir");
        Text(header, $"pwd: {result.JobDir}");
        String(header, "JobDir", result.JobDir);
        Number(One("HeaderAccelerators"), "NvidiaCount", 0);
        var sets = Assert.Single(All("ClusterSets"), e => e.GetProperty("Variable").GetString() == "NNODES");
        Text(sets, "cluster: sets NNODES=1");
        String(sets, "Value", "1");

        var fetching = One("FetchStarted");
        Text(fetching, $"fetching {App} into {result.JobDir}/app");
        String(fetching, "Url", App);

        var fetched = Assert.Single(All("TransferDone"), e => e.GetProperty("Operation").GetString() == "fetch");
        Number(fetched, "Files", 3);
        Number(fetched, "TotalFiles", 3);
        Number(fetched, "Bytes", TreeBytes);
        Assert.Matches(@"^fetch obs://json/jobs/app/: 3/3 files, 0\.1 MB in \d+\.\d s, \d+\.\d MB/s$", fetched.GetProperty("@m").GetString());
        Assert.Equal(Math.Round(Positive(fetched, "Seconds"), 1), double.Parse(fetched.GetProperty("@m").GetString()!.Split(" in ")[1].Split(' ')[0]));
        Positive(fetched, "Rate");

        var grace = One("GraceStarted");
        Text(grace, "SIGTERM passed to the command; SIGKILL in 20 s to whatever of it is still running");
        String(grace, "Signal", "SIGTERM");
        Number(grace, "Seconds", 20);
        double pid = Positive(grace, "Pid");

        var ended = One("CommandEnded");
        Assert.Matches(@"^command ended with exit status 143 after \d+\.\d\d s$", ended.GetProperty("@m").GetString());
        Number(ended, "Status", 143);
        Number(ended, "Pid", pid);
        Assert.Equal(JsonValueKind.Null, ended.GetProperty("Signal").ValueKind);   // it exited with 143, no signal killed it

        var uploads = All("TransferDone").Where(e => e.GetProperty("Operation").GetString() == "upload").ToList();
        Assert.Equal(2, uploads.Count);                                              // the output dir, then the log
        Assert.Contains(uploads, u => u.GetProperty("Url").GetString() == $"obs://{Bucket}/train/" && u.GetProperty("Files").GetInt32() == 1);
        var logUpload = One("LogUpload");
        Text(logUpload, $"uploading {result.LogFile} to obs://{Bucket}/logs/dls-log-j7/");
        String(logUpload, "LogFile", result.LogFile);

        var exit = One("ExitStatus");
        Text(exit, "exit status 143");
        Number(exit, "ExitCode", 143);

        var fetchedRow = Assert.Single(All("SummaryTransfer"), e => e.GetProperty("Item").GetString() == "fetched");
        Number(fetchedRow, "Bytes", TreeBytes);
        Number(fetchedRow, "Files", 3);
        Assert.Matches(@"^  fetched      \d+\.\d KiB, 3 files$", fetchedRow.GetProperty("@m").GetString());
        var running = Assert.Single(All("SummaryPhase"), e => e.GetProperty("Item").GetString() == "running");
        Assert.Equal(Positive(running, "Seconds").ToString("0.000", System.Globalization.CultureInfo.InvariantCulture) + " s", running.GetProperty("Value").GetString());
        Number(One("SummaryExitStatus"), "Status", 143);
        Positive(One("SummaryPeakRss"), "Bytes");
        Number(One("SummaryOutput"), "Bytes", lines.Where(l => !l.StartsWith("{\"@t\":", StringComparison.Ordinal)).Sum(l => l.Length + 1));
    }

    private static JsonElement Parse(string line)
    {
        try { return JsonDocument.Parse(line).RootElement; }
        catch (JsonException e) { throw new Xunit.Sdk.XunitException($"not one JSON event: {line} ({e.Message})"); }
    }
}
