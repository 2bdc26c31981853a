using System.Diagnostics;
using Serilog;
using TrainLauncher.Code;
using TrainLauncher.Health;
using TrainLauncher.Variables;
using TrainLauncher.Output;
using TrainLauncher.Plan;
using TrainLauncher.Supervision;
using TrainLauncher.Secrets;
using TrainLauncher.Tools;

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

    public async Task<int> RunAsync()
    {
        try
        {
            var plan = Resolve();
            if (options.Plan) return await PrintPlanAsync(plan);

            var secrets = SecretSet.Empty;
            await FixDnsAsync(plan);
            _secrets = secrets = await DecryptAsync(plan);
            PrintHeader(plan, secrets);
            EnterJobDir(plan.Settings);
            var jobLog = _jobLog = await CreateLogFileAsync(plan);
            if (!await FetchCodeAsync(plan, jobLog)) return Finish(ExitCodes.FetchFailed, "the code fetch failed (App download error); the command was not run");
            int status = await RunCommandAsync(plan, secrets, jobLog);
            await UploadLogAsync(plan, jobLog);
            return Finish(status);
        }
        catch (LaunchFailure failure)
        {
            log.Error("{Reason}", failure.Message);
            return Finish(failure.ExitCode, failure.Message);
        }
        catch (OperationCanceledException) when (signals.StopSignal != 0)
        {
            log.Warning("stopped by {Signal} during {Phase}; the command was not started", SignalNames.Name(signals.StopSignal), RunState.Name(state.Phase));
            return Finish(ExitCodes.SignalBase + signals.StopSignal, $"stopped by {SignalNames.Name(signals.StopSignal)}; the command was not started");
        }
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
        var argv = options.Shell ? ["/bin/sh", "-c", string.Join(' ', options.Command)] : options.Command;
        return new LaunchPlan
        {
            Options = options,
            Settings = settings,
            Environment = environment,
            Decryption = decryption,
            Encrypted = encrypted,
            Code = CodeSource.Resolve(settings.AppUrl, settings.UseDownloader, downloader, cwd),
            DnsFixer = settings.UseDnsTcp ? _tools.Find(options.Tools.DnsFixer) : null,
            PipeTool = settings.LogFile.Length > 0 ? _tools.Find(options.Tools.Pipe) : null,
            UploadTool = settings.UseUploader
                ? downloader ?? throw LaunchFailure.Setup($"DLS_USE_UPLOADER asks for a log upload but {options.Tools.Downloader} was not found: install it or set --dls-downloader")
                : null,
            Stdbuf = options.NoStdbuf ? null : _tools.Find("stdbuf"),
            Argv = argv,
        };
    }

    private async Task<int> PrintPlanAsync(LaunchPlan plan)
    {
        // Decrypting validates the secrets exactly as a run would; the values are never shown.
        var secrets = await DecryptAsync(plan);
        console.WriteMessage(PlanPrinter.Render(plan, secrets));
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
            await new CodeFetcher(_tools, console).FetchAsync(plan.Code, plan.Settings.JobDir, signals.Stopping);
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
            int status = e.Errno == Supervision.Native.ENOENT ? ExitCodes.NotFound : ExitCodes.CannotExecute;
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

    /// <summary>Step 10: a failed upload is written to the log; it never changes the status.</summary>
    private async Task UploadLogAsync(LaunchPlan plan, JobLog jobLog)
    {
        if (plan.UploadTool is null) return;
        state.Phase = LaunchPhase.Uploading;
        log.Information("uploading {LogFile} to {Dir}", plan.Settings.LogFile, plan.Settings.LogUploadDir);
        // Not cancellable by a stop signal: the log is what tells the user why the job stopped.
        var result = await _tools.RunAsync(plan.UploadTool, ["-s", plan.Settings.LogFile, "-d", plan.Settings.LogUploadDir!], CancellationToken.None);
        if (!result.Succeeded)
        {
            string text = $"Log upload error: dls-downloader exited with status {result.ExitCode}\n{result.Output}\n";
            await jobLog.AppendAsync(text);
            log.Warning("the log upload failed (status {Status}); the reason is in the log", result.ExitCode);
        }
    }

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
