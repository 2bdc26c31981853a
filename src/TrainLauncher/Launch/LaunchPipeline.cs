using System.Diagnostics;
using Serilog;
using TrainLauncher.Cluster;
using TrainLauncher.Code;
using TrainLauncher.Interop;
using TrainLauncher.Output;
using TrainLauncher.Plan;
using TrainLauncher.Reporting;
using TrainLauncher.Secrets;
using TrainLauncher.Storage;
using TrainLauncher.Supervision;
using TrainLauncher.Tools;
using TrainLauncher.Variables;

namespace TrainLauncher.Launch;

/// <summary>
/// The flow of run_train.sh (SPEC 3), one named step after another: resolve, header, DNS fix,
/// decrypt, job dir, log file, fetch, run, upload, finish. Every step either succeeds or ends
/// the launch with a status of SPEC 10 and one line saying why; the status is data carried to
/// the end, never left to the host.
/// </summary>
internal sealed class LaunchPipeline(
    LaunchOptions options,
    IReadOnlyDictionary<string, string> launcherEnvironment,
    ILogger log,
    ConsoleGate console,
    SignalHub signals,
    RunState state)
{
    private readonly ToolRunner _tools = new(launcherEnvironment);
    // For Finish: what the termination message masks and where it reads the output's last lines.
    private SecretSet _secrets = SecretSet.Empty;
    private JobLog? _jobLog;
    private ObjectStore? _store;

    public async Task<int> RunAsync()
    {
        LaunchPlan? plan = null;
        int status;
        string? reason = null;
        try
        {
            plan = Resolve();
            if (options.Plan) return await PrintPlanAsync(plan);

            await FixDnsAsync(plan);
            _secrets = await DecryptAsync(plan);
            _store = OpenObjectStore(plan);
            PrintHeader(plan, _secrets);
            EnterJobDir(plan.Settings);
            _jobLog = await CreateLogFileAsync(plan);
            if (await FetchCodeAsync(plan, _jobLog))
            {
                status = await RunCommandAsync(plan, _secrets, _jobLog);
                await UploadOutputsAsync(plan);
            }
            else
            {
                status = ExitCodes.FetchFailed;
                reason = "the code fetch failed (App download error); the command was not run";
            }
        }
        catch (LaunchFailure failure)
        {
            log.Error("{Reason}", failure.Message);
            (status, reason) = (failure.ExitCode, failure.Message);
        }
        catch (ClusterLayoutException failure)
        {
            log.Error("{Reason}", failure.Message);
            (status, reason) = (ExitCodes.LauncherFailure, failure.Message);
        }
        catch (OperationCanceledException) when (signals.StopSignal != 0)
        {
            string signal = SignalNames.Name(signals.StopSignal);
            log.Warning("stopped by {Signal} during {Phase}; the command was not started", signal, RunState.Name(state.Phase));
            (status, reason) = (ExitCodes.SignalBase + signals.StopSignal, $"stopped by {signal}; the command was not started");
        }
        // As run_train.sh: once the log exists it is uploaded, whatever ended the run — it says why.
        if (plan is not null && _jobLog is not null) await UploadLogAsync(plan, _jobLog);
        _store?.Dispose();
        return Finish(status, reason);
    }

    /// <summary>Step 1, and the decisions of steps 2–8: validates everything, changes nothing.</summary>
    private LaunchPlan Resolve()
    {
        string cwd = Directory.GetCurrentDirectory();
        var settings = JobSettings.Resolve(options, launcherEnvironment, cwd);

        var environment = new JobEnvironment(launcherEnvironment);
        environment.PrepareForPython(settings.JobDir);
        environment.ScrubForeignJobs(settings.JobId);
        var encrypted = SecretDecryptor.Encrypted(environment.Variables);
        var decryption = new SecretDecryptor(_tools, options.Tools).Choose(environment.Variables);
        foreach (var (name, _) in encrypted) environment.Remove(name);

        string? downloader = _tools.Find(options.Tools.Downloader);
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

        var argv = options.Shell ? ["/bin/sh", "-c", string.Join(' ', options.Command)] : options.Command;
        return new LaunchPlan
        {
            Options = options,
            Settings = settings,
            Environment = environment,
            Decryption = decryption,
            Encrypted = encrypted,
            Code = CodeSource.Resolve(settings.AppUrl, settings.UseDownloader, downloader, options.Downloader, cwd),
            DnsFixer = settings.UseDnsTcp ? _tools.Find(options.Tools.DnsFixer) : null,
            PipeTool = settings.LogFile.Length > 0 ? _tools.Find(options.Tools.Pipe) : null,
            UploadTool = uploadWithTool ? downloader : null,
            BuiltinLogUpload = settings.UseUploader && !uploadWithTool ? ParseUrl(settings.LogUploadDir!, "DLS_UPLOAD_LOG_OBS_DIR") : null,
            OutputUpload = ResolveOutputUpload(settings.JobDir),
            Accelerators = accelerators,
            Gpus = gpus,
            Cluster = cluster,
            Stdbuf = options.NoStdbuf ? null : _tools.Find("stdbuf"),
            Argv = argv,
        };
    }

    private (string Dir, ObjectUrl Url)? ResolveOutputUpload(string jobDir)
    {
        if (options.OutputDir is null) return null;
        string url = JobSettings.NonEmpty(launcherEnvironment, "DLS_TRAIN_URL")
            ?? throw LaunchFailure.Setup("--output-dir is set but DLS_TRAIN_URL is empty: set DLS_TRAIN_URL to obs://bucket/prefix/ or drop --output-dir");
        return (Path.GetFullPath(options.OutputDir, jobDir), ParseUrl(url, "DLS_TRAIN_URL"));
    }

    private static ObjectUrl ParseUrl(string url, string variable)
    {
        try { return ObjectUrl.Parse(url); }
        catch (ObjectStoreException e) { throw LaunchFailure.Setup($"{variable}: {e.Message}"); }
    }

    /// <summary>The built-in client, configured from the command's environment after decryption
    /// (so keys from DLS_AES__ variables count); null when no transfer needs it.</summary>
    private ObjectStore? OpenObjectStore(LaunchPlan plan) => plan.NeedsObjectStore ? new ObjectStore(ResolveStorage(plan)) : null;

    private ObjectStoreSettings ResolveStorage(LaunchPlan plan)
    {
        try
        {
            return ObjectStoreSettings.Resolve(plan.Environment.Variables, options.ObsEndpoint, options.Region, options.S3PathStyle, options.Transfers);
        }
        catch (ObjectStoreException e) { throw LaunchFailure.Setup(e.Message); }
    }

    private async Task<int> PrintPlanAsync(LaunchPlan plan)
    {
        // Decrypting validates the secrets exactly as a run would; the values are never shown.
        var secrets = await DecryptAsync(plan);
        var storage = plan.NeedsObjectStore ? ResolveStorage(plan) : null;
        console.WriteMessage(PlanPrinter.Render(plan, secrets, storage));
        return 0;
    }

    /// <summary>Step 3: a DNS fixer that fails is a warning, not a reason to stop.</summary>
    private async Task FixDnsAsync(LaunchPlan plan)
    {
        if (!plan.Settings.UseDnsTcp) return;
        if (plan.DnsFixer is null)
        {
            log.Warning("DLS_USE_DNS_TCP is set but {Tool} was not found; DNS left as it is", options.Tools.DnsFixer);
            return;
        }
        var result = await _tools.RunAsync(plan.DnsFixer, [], signals.Stopping);
        if (!result.Succeeded)
            log.Warning("dls-dns-fixer exited with status {Status}: {Output}", result.ExitCode, result.Output);
    }

    /// <summary>Step 5.</summary>
    private async Task<SecretSet> DecryptAsync(LaunchPlan plan)
    {
        switch (plan.Decryption)
        {
            case DecryptionMethod.NothingToDecrypt:
                return SecretSet.Empty;
            case DecryptionMethod.Unavailable:
                log.Warning("{Names} dropped: no DLS_DECRYPTOR_KEY_FILE and no DLS_KEY_ENDPOINT with DLS_KEY_JOB_ID to decrypt them",
                    string.Join(", ", plan.Encrypted.Select(p => p.Key)));
                return SecretSet.Empty;
        }
        state.Phase = LaunchPhase.Decrypting;
        var secrets = await new SecretDecryptor(_tools, options.Tools).DecryptAsync(plan.Decryption, plan.Encrypted, signals.Stopping);
        foreach (var (name, value) in secrets.Values) plan.Environment.SetSecret(name, value);
        return secrets;
    }

    private void PrintHeader(LaunchPlan plan, SecretSet secrets)
    {
        var s = plan.Settings;
        log.Information("user: {User}", UserIdentity.Describe());
        log.Information("pwd: {JobDir}", s.JobDir);
        log.Information("app_url: {AppUrl}", s.AppUrl ?? "(none)");
        log.Information("log_url: {LogFile}", s.LogFile.Length > 0 ? s.LogFile : "(none)");
        log.Information("command: {Command}", secrets.Mask(PlanPrinter.Quote(plan.Argv)));
        foreach (var line in plan.Accelerators.Describe().Concat(plan.Cluster.Describe())) log.Information("{Line}", line);
        if (plan.Gpus is { } gpus) log.Information("--gpus sets {Variable}={Value}", gpus.Variable, gpus.Value);
    }

    /// <summary>Step 6.</summary>
    private static void EnterJobDir(JobSettings settings)
    {
        try
        {
            Directory.CreateDirectory(settings.JobDir);
            Directory.SetCurrentDirectory(settings.JobDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw LaunchFailure.Setup($"cannot use the job dir {settings.JobDir} (DLS_USER_JOB_DIR): {e.Message}");
        }
    }

    /// <summary>Step 7: created empty, so lines of an earlier run with the same task index never reappear.</summary>
    private async Task<JobLog> CreateLogFileAsync(LaunchPlan plan)
    {
        var jobLog = new JobLog(plan.Settings.LogFile, plan.PipeTool, _tools);
        await jobLog.CreateAsync();
        return jobLog;
    }

    /// <summary>Step 8. False when the fetch failed (the reason is in the log).</summary>
    private async Task<bool> FetchCodeAsync(LaunchPlan plan, JobLog jobLog)
    {
        if (plan.Code is null) return true;
        state.Phase = LaunchPhase.Fetching;
        log.Information("fetching {Source} into {Target}", plan.Settings.AppUrl, Path.Combine(plan.Settings.JobDir, plan.Code.TargetName));
        try
        {
            var fetched = await new CodeFetcher(_tools, console, _store, Progress).FetchAsync(plan.Code, plan.Settings.JobDir, signals.Stopping);
            if (fetched is not null)
            {
                state.Report.FilesFetched = fetched.Files;
                state.Report.BytesFetched = fetched.Bytes;
            }
            return true;
        }
        catch (FetchFailure failure)
        {
            string text = $"App download error: {failure.Output}\n";
            await jobLog.AppendAsync(text);
            console.WriteMessage(text);
            log.Error("the code fetch failed; the command was not run");
            return false;
        }
    }

    /// <summary>Step 9: start, pump the output, forward signals, wait.</summary>
    private async Task<int> RunCommandAsync(LaunchPlan plan, SecretSet secrets, JobLog jobLog)
    {
        signals.Stopping.ThrowIfCancellationRequested();
        var (program, argv) = ResolveProgram(plan);
        plan.Cluster.WriteHostfile();
        if (plan.Cluster.NeedsMasterWait)
            await new MasterWaiter(m => log.Information("{Message}", m))
                .WaitAsync(plan.Cluster.Position.MasterAddress, TimeSpan.FromSeconds(options.WaitHostsSeconds), signals.Stopping);
        state.Phase = LaunchPhase.Running;

        await using var sink = await jobLog.OpenSinkAsync(message => log.Warning("{Warning}", message));
        var pump = new OutputPump(console, sink, message => log.Warning("{Warning}", message));
        SpawnedCommand command;
        try
        {
            command = CommandSpawner.Spawn(program, argv, plan.Environment.ToArray());
        }
        catch (SpawnException e)
        {
            int status = e.Errno == Native.ENOENT ? ExitCodes.NotFound : ExitCodes.CannotExecute;
            throw new LaunchFailure(status, secrets.Mask(e.Message));
        }
        state.CommandPid = command.Pid;
        var clock = Stopwatch.StartNew();
        var pumping = pump.RunAsync(command.OutputFd);
        var exit = await new CommandSupervisor(signals, TimeSpan.FromSeconds(options.StopGraceSeconds), m => log.Information("{Message}", m))
            .WaitAsync(command);
        state.CommandEnded(exit);
        // Before the drain: once nothing of the command is left, the pipe reaches end of data.
        OrphanReaper.KillLeftovers(command.Pid, TimeSpan.FromSeconds(Math.Min(options.StopGraceSeconds, 2)));
        pump.Drain();
        await pumping;
        state.Report.OutputBytes = pump.Bytes;
        await sink.CompleteAsync();
        log.Information("command ended with {Exit} after {Seconds:0.00} s", exit.ToString(), clock.Elapsed.TotalSeconds);
        return exit.ExitStatus;
    }

    /// <summary>Finds the program as execvp would, so "not found" (127) and "not executable"
    /// (126) get a clear line of our own; adds stdbuf in front when it is used.</summary>
    private (string Program, IReadOnlyList<string> Argv) ResolveProgram(LaunchPlan plan)
    {
        string name = plan.Argv[0];
        string? path = ExecutableLookup.Find(name, plan.Environment.Get("PATH"));
        if (path is null)
            throw new LaunchFailure(ExitCodes.NotFound, $"command not found: '{name}' (looked in {(name.Contains('/') ? "the job dir" : "PATH")})");
        if (Directory.Exists(path) || !ExecutableLookup.IsExecutable(path))
            throw new LaunchFailure(ExitCodes.CannotExecute, $"cannot execute '{path}': it is {(Directory.Exists(path) ? "a directory" : "not executable (chmod +x?)")}");
        var argv = plan.Argv.ToArray();
        argv[0] = path;
        return plan.Stdbuf is null
            ? (path, plan.Argv)
            : (plan.Stdbuf, ["stdbuf", "-oL", "-eL", .. argv]);
    }

    /// <summary>Step 10a: --output-dir to DLS_TRAIN_URL, after any end of the command (failed
    /// or stopped too: partial checkpoints are what a user wants back). A failure is a warning.</summary>
    private async Task UploadOutputsAsync(LaunchPlan plan)
    {
        if (plan.OutputUpload is not { } upload || _store is null) return;
        state.Phase = LaunchPhase.Uploading;
        try
        {
            var stats = await _store.UploadDirectoryAsync(upload.Dir, upload.Url, Progress, CancellationToken.None);
            CountUpload(stats);
        }
        catch (ObjectStoreException e)
        {
            log.Warning("the output upload failed: {Reason}", e.Message);
        }
    }

    /// <summary>Step 10b: a failed log upload is written to the log; it never changes the status.
    /// Not cancellable by a stop signal: the log is what tells the user why the job stopped.</summary>
    private async Task UploadLogAsync(LaunchPlan plan, JobLog jobLog)
    {
        string? error = null;
        if (plan.UploadTool is not null)
        {
            state.Phase = LaunchPhase.Uploading;
            log.Information("uploading {LogFile} to {Dir} with dls-downloader", plan.Settings.LogFile, plan.Settings.LogUploadDir);
            var result = await _tools.RunAsync(plan.UploadTool, ["-s", plan.Settings.LogFile, "-d", plan.Settings.LogUploadDir!], CancellationToken.None);
            if (!result.Succeeded) error = $"dls-downloader exited with status {result.ExitCode}\n{result.Output}";
        }
        else if (plan.BuiltinLogUpload is { } url && _store is not null)
        {
            state.Phase = LaunchPhase.Uploading;
            log.Information("uploading {LogFile} to {Dir}", plan.Settings.LogFile, url.ToString());
            try { CountUpload(await _store.UploadFileAsync(plan.Settings.LogFile, url, Progress, CancellationToken.None)); }
            catch (ObjectStoreException e) { error = e.Message; }
        }
        if (error is null) return;
        await jobLog.AppendAsync($"Log upload error: {error}\n");
        log.Warning("the log upload failed; the reason is in the log");
    }

    private void CountUpload(TransferStats stats)
    {
        state.Report.FilesUploaded = (state.Report.FilesUploaded ?? 0) + stats.Files;
        state.Report.BytesUploaded = (state.Report.BytesUploaded ?? 0) + stats.Bytes;
    }

    private void Progress(string line) => log.Information("{Progress}", line);

    /// <summary>Step 11. <paramref name="reason"/>: why the run ended, when not by the command's own end.</summary>
    private int Finish(int status, string? reason = null)
    {
        var endedIn = state.Phase;
        state.Phase = LaunchPhase.Done;
        state.ExitCode = status;
        log.Information("exit status {ExitCode}", status);
        RunEnd.Report(options, state, log, status, endedIn, reason, _secrets, _jobLog);
        return status;
    }
}
