using Microsoft.Extensions.Logging;
using TrainLauncher.Cluster;
using TrainLauncher.Code;
using TrainLauncher.Data;
using TrainLauncher.Output;
using TrainLauncher.Plan;
using TrainLauncher.Reporting;
using TrainLauncher.Secrets;
using TrainLauncher.Storage;
using TrainLauncher.Supervision;
using TrainLauncher.Tools;
using TrainLauncher.Upload;

namespace TrainLauncher.Launch;

/// <summary>
/// The flow of run_train.sh (SPEC 3), one named step after another: resolve, DNS fix, decrypt,
/// header, job dir, log file, fetch, run, upload, finish. Every step either succeeds or ends the
/// launch with a status of SPEC 10 and one line saying why; the status is data carried to the
/// end (<see cref="RunEnd"/> records it in the <see cref="LaunchOutcome"/>), never left to the host.
/// </summary>
internal sealed class LaunchPipeline(
    LaunchOptions options,
    IReadOnlyDictionary<string, string> launcherEnvironment,
    ILogger log,
    ConsoleGate console,
    SignalHub signals,
    RunState state,
    RunEnd runEnd,
    CheckpointSync checkpoints)
{
    private readonly ToolRunner _tools = new(launcherEnvironment);

    public async Task RunAsync()
    {
        var planner = new LaunchPlanner(options, launcherEnvironment, _tools);
        LaunchPlan? plan = null;
        var secrets = SecretSet.Empty;
        JobLog? jobLog = null;
        ObjectStore? store = null;
        int status;
        string? reason = null;
        try
        {
            plan = planner.Resolve();
            if (options.Plan)
            {
                await PrintPlanAsync(planner, plan);
                return;
            }
            await new DnsFixer(_tools, log).FixAsync(plan, signals.Stopping);
            secrets = await Decryptor().DecryptIntoAsync(plan, state, log, signals.Stopping);
            store = planner.StorageSettings(plan) is { } storage ? new ObjectStore(storage) : null;
            RunHeader.Print(log, plan, secrets);
            JobDirectory.Enter(plan.Settings.JobDir);
            jobLog = await JobLog.CreateAsync(plan.Settings.LogFile, plan.PipeTool, _tools,
                TerminationMessage.TailBytesToRead(secrets), TimeSpan.FromSeconds(options.DlsPipeStallSeconds));
            if (await new CodeFetcher(_tools, console, store, log).FetchCodeAsync(plan, jobLog, state, signals.Stopping))
            {
                await new InputDataFetcher(_tools, console, store, log).FetchAsync(plan, state, signals.Stopping);
                await new RequirementsInstaller(_tools, console, state, log).InstallAsync(plan, jobLog, signals.Stopping);
                await checkpoints.StartSyncingAsync(plan.Checkpoints, store, signals.Stopping);
                // The stop sequence, in order: signal → grace (inside the command step: forwarded
                // to the group, SIGKILL when the grace runs out) → uploads → summary.
                status = await new CommandRunner(options, console, signals, state, log).RunAsync(plan, secrets, jobLog);
            }
            else
            {
                status = ExitCodes.FetchFailed;
                reason = "the code fetch failed (App download error); the command was not run";
            }
        }
        catch (LaunchFailure failure)
        {
            // Masked here, once for every step: a failure may quote a tool's output (pip's last
            // error line) that holds a decrypted value.
            string message = secrets.Mask(failure.Message);
            log.LaunchFailed(message, failure.ExitCode);
            (status, reason) = (failure.ExitCode, message);
        }
        catch (ClusterLayoutException failure)
        {
            log.LaunchFailed(failure.Message, ExitCodes.LauncherFailure);
            (status, reason) = (ExitCodes.LauncherFailure, failure.Message);
        }
        catch (OperationCanceledException) when (signals.StopSignal != 0)
        {
            string signal = SignalNames.Name(signals.StopSignal);
            status = ExitCodes.SignalBase + signals.StopSignal;
            log.StoppedBeforeCommand(signal, RunState.Name(state.Phase), status);
            reason = $"stopped by {signal}; the command was not started";
        }
        catch (Exception e) when (state.CommandStatus is { } commandStatus)
        {
            status = commandStatus;
            FailedAfterCommand("finishing the command step", e, status, secrets);
        }
        catch (Exception e)
        {
            // A bug before the command ran: 125 and one line, masked (the text may quote a
            // decrypted value; the host's last-resort handler has no mask), then the usual end.
            log.InternalError(secrets.Mask(e.ToString()).ReplaceLineEndings(" | "), ExitCodes.LauncherFailure);
            (status, reason) = (ExitCodes.LauncherFailure, $"internal error ({e.GetType().Name})");
        }
        // From here on a failure is one warning line: the status is data, and the summary and the
        // termination message still follow.
        // The checkpoint sync's last pass: after the command (its last checkpoint is written) and
        // before the upload; a launch that failed after the restore (command not found, ...) still
        // gets it, while the store is open.
        await KeepingStatusAsync("the checkpoint sync's last pass", checkpoints.FinishAsync, status, secrets);
        var uploader = new JobUploader(_tools, store, state, log);
        if (plan is not null && state.CommandStatus is not null)
            await KeepingStatusAsync("the output upload", () => uploader.UploadOutputsAsync(plan), status, secrets);
        // As run_train.sh: once the log exists it is uploaded, whatever ended the run — it says why.
        if (plan is not null && jobLog is not null)
            await KeepingStatusAsync("the log upload", () => uploader.UploadLogAsync(plan, jobLog), status, secrets);
        try { store?.Dispose(); }
        catch (Exception e) { FailedAfterCommand("closing the object store", e, status, secrets); }
        runEnd.Finish(status, reason, secrets, jobLog);
    }

    private async Task KeepingStatusAsync(string step, Func<Task> run, int status, SecretSet secrets)
    {
        try
        {
            await run();
        }
        catch (Exception e)
        {
            FailedAfterCommand(step, e, status, secrets);
        }
    }

    private void FailedAfterCommand(string step, Exception e, int status, SecretSet secrets) =>
        log.StepFailedKeepingStatus(step, OneLine.Escape(secrets.Mask($"{e.GetType().Name}: {e.Message}")), status);

    private SecretDecryptor Decryptor() => new(_tools, options.Tools);

    /// <summary>`plan`: decrypting validates the secrets exactly as a run would; the values are never shown.</summary>
    private async Task PrintPlanAsync(LaunchPlanner planner, LaunchPlan plan)
    {
        var secrets = await Decryptor().DecryptIntoAsync(plan, state, log, signals.Stopping);
        console.WriteMessage(PlanPrinter.Render(plan, secrets, planner.StorageSettings(plan)));
        runEnd.PlanPrinted();
    }
}
