using TrainLauncher.Cluster;
using TrainLauncher.Code;
using TrainLauncher.Reporting;
using TrainLauncher.Secrets;
using TrainLauncher.Storage;
using TrainLauncher.Tools;
using TrainLauncher.Variables;

namespace TrainLauncher.Launch;

/// <summary>
/// Step 1 and the decisions of steps 2–8 (describe first, act later): turns the options and the
/// launcher's environment into a <see cref="LaunchPlan"/>, validating everything and changing
/// nothing. `plan` prints what this returns; a run acts on it.
/// </summary>
internal sealed class LaunchPlanner(LaunchOptions options, IReadOnlyDictionary<string, string> launcherEnvironment, ToolRunner tools)
{
    public LaunchPlan Resolve()
    {
        string cwd = Directory.GetCurrentDirectory();
        var settings = JobSettings.Resolve(options, launcherEnvironment, cwd);

        var environment = new JobEnvironment(launcherEnvironment);
        environment.PrepareForPython(settings.JobDir);
        environment.ScrubForeignJobs(settings.JobId);
        var encrypted = SecretDecryptor.Encrypted(environment.Variables);
        var decryption = new SecretDecryptor(tools, options.Tools).Choose(environment.Variables);
        foreach (var (name, _) in encrypted) environment.Remove(name);

        string? downloader = tools.Find(options.Tools.Downloader);
        bool uploadWithTool = settings.UseUploader && options.Downloader != DownloaderChoice.Builtin && downloader is not null;
        if (settings.UseUploader && options.Downloader == DownloaderChoice.Tool && downloader is null)
            throw LaunchFailure.Setup($"--downloader tool, but {options.Tools.Downloader} was not found for the log upload: install it or use --downloader builtin");

        // Cluster variables come from the launcher's own environment and go in after the scrub,
        // so nothing removes them. The user's own values win: cluster.Set holds only names the
        // user left unset, and an empty or blank value counts as unset (it is replaced, as the
        // header's "sets" line says).
        var accelerators = Accelerators.Detect(launcherEnvironment, options.DeviceDir);
        var gpus = options.Gpus is { } list ? accelerators.Restrict(list) : null;
        var cluster = ClusterLayout.Plan(launcherEnvironment, gpus?.Count ?? accelerators.Count,
            Path.Combine(Path.GetTempPath(), $"trainlauncher-hostfile-{settings.TaskIndex}"), options.TfPort);
        if (gpus is not null) environment.Set(gpus.Variable, gpus.Value);
        foreach (var (name, value) in cluster.Set) environment.Set(name, value);
        var rankTable = PlanRankTable(settings, accelerators, gpus, cluster);
        foreach (var (name, value) in rankTable.Set) environment.Set(name, value);
        // torch's @record writes the failure there; torchrun copies its first failed worker's file.
        string? userErrorFile = environment.Get(ElasticErrorFile.Variable) is { Length: > 0 } given ? given : null;
        string errorFile = Path.GetFullPath(userErrorFile ?? ElasticErrorFile.DefaultPath(settings.JobDir, settings.TaskIndex), settings.JobDir);
        if (userErrorFile is null) environment.Set(ElasticErrorFile.Variable, errorFile);
        var workers = WorkerPlan.Plan(options.PerDevice, options.WorkerPrefix, accelerators.Primary, gpus, cluster.Position, rankTable,
            settings.LogFile, errorFile, userErrorFile is null);

        var code = CodeSource.Resolve(settings.AppUrl, settings.UseDownloader, downloader, options.Downloader, cwd);
        var argv = options.Shell ? ["/bin/sh", "-c", string.Join(' ', options.Command)] : options.Command;
        return new LaunchPlan
        {
            Options = options,
            Settings = settings,
            Environment = environment,
            Decryption = decryption,
            Encrypted = encrypted,
            Code = code,
            Data = Data.InputData.Resolve(options, settings, cwd),
            Checkpoints = Data.CheckpointPlan.Resolve(options, settings),
            Requirements = Data.RequirementsSource.Resolve(options.Requirements, settings.JobDir, code is null ? null : Path.Combine(settings.JobDir, code.TargetName)),
            DnsFixer = settings.UseDnsTcp ? tools.Find(options.Tools.DnsFixer) : null,
            PipeTool = settings.LogFile.Length > 0 ? tools.Find(options.Tools.Pipe) : null,
            UploadTool = uploadWithTool ? downloader : null,
            BuiltinLogUpload = settings.UseUploader && !uploadWithTool ? ParseUrl(settings.LogUploadDir!, "DLS_UPLOAD_LOG_OBS_DIR") : null,
            OutputUpload = ResolveOutputUpload(settings),
            Accelerators = accelerators,
            Gpus = gpus,
            Cluster = cluster,
            RankTable = rankTable,
            Workers = workers,
            ErrorFile = errorFile,
            ErrorFileIsOurs = userErrorFile is null,
            Stdbuf = options.NoStdbuf ? null : tools.Find("stdbuf"),
            Argv = argv,
        };
    }

    private RankTablePlan PlanRankTable(JobSettings settings, AcceleratorVisibility accelerators, GpuRestriction? gpus, ClusterPlan cluster)
    {
        var devices = accelerators.Primary;
        var hosts = PlatformLayout.Read(launcherEnvironment).Hosts;
        string source = devices.Describe() + (options.Gpus is { } g ? $" and --gpus {g}" : "");
        return RankTables.Plan(launcherEnvironment, options.RankTable, devices == accelerators.Ascend && devices.Count > 0,
            gpus?.DeviceIds ?? devices.Ids, source, cluster.Position, hosts, LocalNames(hosts, cluster.Position.NodeRank),
            Path.Combine(settings.JobDir, $"rank-table-{settings.TaskIndex}.json"));
    }

    /// <summary>What a rank table's server_id may call this node: its host in the platform's list, its host name, its addresses.</summary>
    private IReadOnlyCollection<string> LocalNames(IReadOnlyList<HostEntry> hosts, int nodeRank)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (nodeRank < hosts.Count) names.Add(hosts[nodeRank].Host);
        if (launcherEnvironment.GetValueOrDefault("HOSTNAME") is { Length: > 0 } hostname) names.Add(hostname);
        try
        {
            names.Add(System.Net.Dns.GetHostName());
            foreach (var nic in System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces())
                foreach (var address in nic.GetIPProperties().UnicastAddresses)
                    if (!System.Net.IPAddress.IsLoopback(address.Address)) names.Add(address.Address.ToString());
        }
        catch (System.Net.NetworkInformation.NetworkInformationException) { } // names from the host list still count
        catch (System.Net.Sockets.SocketException) { }
        return names;
    }

    /// <summary>The built-in client's settings, from the command's environment after decryption
    /// (so keys from DLS_AES__ variables count); null when no transfer needs the client.</summary>
    public ObjectStoreSettings? StorageSettings(LaunchPlan plan)
    {
        if (!plan.NeedsObjectStore) return null;
        try
        {
            return ObjectStoreSettings.Resolve(plan.Environment.Variables, options.ObsEndpoint, options.Region, options.S3PathStyle, options.Transfers);
        }
        catch (ObjectStoreException e) { throw LaunchFailure.Setup(e.Message); }
    }

    private (string Dir, ObjectUrl Url)? ResolveOutputUpload(JobSettings settings)
    {
        if (options.OutputDir is null) return null;
        string url = settings.TrainUrl
            ?? throw LaunchFailure.Setup("--output-dir is set but DLS_TRAIN_URL is empty: set DLS_TRAIN_URL to obs://bucket/prefix/ or drop --output-dir");
        return (Path.GetFullPath(options.OutputDir, settings.JobDir), ParseUrl(url, "DLS_TRAIN_URL"));
    }

    private static ObjectUrl ParseUrl(string url, string variable)
    {
        try { return ObjectUrl.Parse(url); }
        catch (ObjectStoreException e) { throw LaunchFailure.Setup($"{variable}: {e.Message}"); }
    }
}
