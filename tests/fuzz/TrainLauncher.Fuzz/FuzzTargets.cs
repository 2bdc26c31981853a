using System.Text;
using System.Text.Json;
using TrainLauncher.Cluster;
using TrainLauncher.Health;
using TrainLauncher.Images;
using TrainLauncher.Launch;
using TrainLauncher.Storage;

namespace TrainLauncher.Fuzz;

/// <summary>
/// One target per parser of outside input. Each takes raw bytes (from afl-fuzz, a seed file or
/// a property test's generator), runs the parser as the launcher does, and lets only the
/// documented outcome through: a result, or the one exception type the caller turns into one
/// line. Anything else (another exception type, a message that is not one line, a listing that
/// never ends) escapes, which afl-fuzz records as a crash and a property test as a failure.
/// </summary>
public static class FuzzTargets
{
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>
    {
        ["options"] = Options,
        ["cluster"] = Cluster,
        ["listing"] = Listing,
        ["image"] = Image,
        ["health"] = Health,
        ["ranktable"] = RankTable,
        ["errorfile"] = ErrorFile,
    };

    /// <summary>
    /// Launcher options and variables: argv for OptionParser, then the environment for it,
    /// JobSettings (SPEC 2), the storage settings and the code URL. Documented failures:
    /// LaunchFailure, ObjectStoreException and ClusterLayoutException (each a 125 with one line).
    /// </summary>
    public static void Options(byte[] input)
    {
        var (args, environment) = FuzzInput.ArgsAndEnvironment(input);
        try
        {
            var options = OptionParser.Parse(args, environment, plan: args.FirstOrDefault() == "plan");
            var job = JobSettings.Resolve(options, environment, "/work");
            TrainLauncher.Data.InputData.Resolve(options, job, "/work");
            TrainLauncher.Data.CheckpointPlan.Resolve(options, job);
            if (job.AppUrl is { } url && ObjectUrl.IsObjectUrl(url))
                ObjectUrl.Parse(url);
            if (environment.ContainsKey("OBS_ENDPOINT") || environment.ContainsKey("S3_ENDPOINT") || options.ObsEndpoint is not null)
                ObjectStoreSettings.Resolve(environment, options.ObsEndpoint, options.Region, options.S3PathStyle, options.Transfers);
        }
        catch (LaunchFailure e)
        {
            FuzzFinding.RequireOneLine("LaunchFailure", e.Message);
        }
        catch (ObjectStoreException e)
        {
            FuzzFinding.RequireOneLine("ObjectStoreException", e.Message);
        }
        catch (ClusterLayoutException e)
        {
            // DLS_TASK_INDEX has one parser, the cluster layout's.
            FuzzFinding.RequireOneLine("ClusterLayoutException", e.Message);
        }
    }

    /// <summary>
    /// Accelerator variables, --gpus (the variable TRAINLAUNCHER_GPUS here) and the cluster
    /// layout variables (ModelArts, Volcano, torchrun's own) as the Cluster step reads them.
    /// Documented failure: ClusterLayoutException.
    /// </summary>
    public static void Cluster(byte[] input)
    {
        var environment = FuzzInput.Environment(FuzzInput.Fields(input));
        try
        {
            var visible = Accelerators.Detect(environment, "/nonexistent-fuzz-dev");
            int count = visible.Count;
            if (environment.TryGetValue("TRAINLAUNCHER_GPUS", out var gpus))
                count = visible.Restrict(gpus).Count;
            var plan = ClusterLayout.Plan(environment, count, "/tmp/fuzz-hostfile", ClusterLayout.DefaultTfPort);
            foreach (var note in plan.Notes)
                FuzzFinding.RequireOneLine("cluster note", note);
        }
        catch (ClusterLayoutException e)
        {
            FuzzFinding.RequireOneLine("ClusterLayoutException", e.Message);
        }
    }

    /// <summary>
    /// A ListObjectsV2 response body, through AWSSDK.S3's unmarshaller and our fetch (listing,
    /// download plan). Documented failure: ObjectStoreException. A listing that keeps asking
    /// for pages of the same body is a finding (it would loop forever and grow without bound).
    /// </summary>
    public static void Listing(byte[] input)
    {
        var server = new ListingServer(input);
        var settings = new ObjectStoreSettings(new Uri("http://127.0.0.1:9/"), "us-east-1", true, 4, null);
        string target = Path.Combine(Path.GetTempPath(), "fuzz-listing-" + Guid.NewGuid().ToString("n"));
        try
        {
            using var store = new ObjectStore(settings, Shared.ListingTuning, server);
            store.DownloadPrefixAsync(ObjectUrl.Parse("s3://fuzz-bucket/app/"), target,
                    Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, server.Looping.Token)
                .GetAwaiter().GetResult();
        }
        catch (ObjectStoreException e)
        {
            FuzzFinding.RequireOneLine("ObjectStoreException", e.Message);
        }
        catch (OperationCanceledException) when (server.Looping.IsCancellationRequested)
        {
        }
        finally
        {
            if (Directory.Exists(target))
                Directory.Delete(target, recursive: true);
        }
        if (server.Looping.IsCancellationRequested)
            throw new FuzzFinding($"the listing asked for more than {ListingServer.MaxPages} pages of one response: it would never end");
    }

    /// <summary>
    /// An image archive (docker save or OCI, as a tar) through check-image's reader and rules.
    /// Documented failure: ImageFormatException (exit 2 with one line).
    /// </summary>
    public static void Image(byte[] input)
    {
        try
        {
            using var files = ImageFiles.FromTar(new MemoryStream(input, writable: false), "fuzz.tar");
            ImageChecker.Check(files, new CheckSettings(BaseSelection.Default, Batch: true),
                finding => FuzzFinding.RequireOneLine("finding", Output.OneLine.Escape(finding.ToString())));
        }
        catch (ImageFormatException e)
        {
            FuzzFinding.RequireOneLine("ImageFormatException", Output.OneLine.Escape(e.Message));
        }
    }

    /// <summary>
    /// The bytes a client sent to the health endpoint: read as the endpoint reads them (complete
    /// or not, and at the read deadline) and answered. Documented outcome: one of the endpoint's
    /// statuses with a JSON body; no exception at all.
    /// </summary>
    public static void Health(byte[] input)
    {
        var partial = HealthRequest.Read(input, final: false);
        var request = HealthRequest.Read(input, final: true)
            ?? throw new FuzzFinding("no request at the read deadline");
        if (partial is not null && partial != request)
            throw new FuzzFinding($"a complete head read two ways: {partial} and {request}");
        var (code, body, _) = Shared.Endpoint.Respond(request);
        if (code is not (200 or 400 or 404 or 405 or 503))
            throw new FuzzFinding($"status {code}");
        using var json = JsonDocument.Parse(body);
        if (request is HealthRequest.Bad bad)
            FuzzFinding.RequireOneLine("400 reason", bad.Why);
    }

    /// <summary>
    /// An HCCL rank table (RANK_TABLE_FILE, formats 1.0 and 0.x), then this node's devices checked
    /// against it as the Cluster step does. Documented failure: ClusterLayoutException.
    /// </summary>
    public static void RankTable(byte[] input)
    {
        try
        {
            var table = TrainLauncher.Cluster.RankTable.Parse(input, "/fuzz/rank_table.json");
            if (table.Devices.Count == 0)
                throw new FuzzFinding("a table without devices was accepted");
            var first = table.Devices[0];
            var ids = table.Devices.Where(d => d.ServerId == first.ServerId).Select(d => d.DeviceId).ToList();
            string path = Path.Combine(Path.GetTempPath(), $"fuzz-ranktable-{Environment.ProcessId}.json");
            File.WriteAllBytes(path, input);
            try
            {
                var plan = RankTables.Plan(new Dictionary<string, string> { ["RANK_TABLE_FILE"] = path }, RankTableMode.Auto, true, ids,
                    "ASCEND_VISIBLE_DEVICES", new ClusterPosition(0, 1, "127.0.0.1", 29500, ids.Count), [], [first.ServerId], "/tmp/fuzz-table");
                if (plan.LocalRanks.Count != ids.Count)
                    throw new FuzzFinding($"{plan.LocalRanks.Count} ranks for {ids.Count} devices");
            }
            finally { File.Delete(path); }
        }
        catch (ClusterLayoutException e)
        {
            FuzzFinding.RequireOneLine("ClusterLayoutException", e.Message);
        }
    }

    /// <summary>
    /// torchrun's error file (TORCHELASTIC_ERROR_FILE) as read after a failed command. Documented
    /// outcome: a root cause whose every line is one line; no exception at all.
    /// </summary>
    public static void ErrorFile(byte[] input)
    {
        var cause = Reporting.ElasticErrorFile.Parse(input, Secrets.SecretSet.Empty, "torchelastic error file", "/fuzz/error.json");
        FuzzFinding.RequireOneLine("root cause", cause.Summary);
        foreach (var frame in cause.Frames) FuzzFinding.RequireOneLine("root cause frame", frame);
        if (cause.Frames.Count > Reporting.ElasticErrorFile.MaxFrames)
            throw new FuzzFinding($"{cause.Frames.Count} frames");
    }

    /// <summary>
    /// Objects of the launcher's (instrumented) assembly that every run shares. Built on first
    /// use inside a run: touching instrumented code before SharpFuzz set up its trace memory
    /// would crash, so the target table above holds nothing of the launcher.
    /// </summary>
    private static class Shared
    {
        public static readonly TransferTuning ListingTuning = TransferTuning.Default with
        {
            MaxRetries = 1, // Polly wants at least one
            BaseDelay = TimeSpan.FromMilliseconds(1),
            MaxDelay = TimeSpan.FromMilliseconds(1),
            IdleTimeout = TimeSpan.FromSeconds(10),
            ProgressInterval = TimeSpan.FromHours(1),
        };

        public static readonly HealthEndpoint Endpoint = new(new LaunchOptions(), new Reporting.RunState(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
    }
}
