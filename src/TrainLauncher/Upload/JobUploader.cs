using System.ComponentModel;
using Microsoft.Extensions.Logging;
using TrainLauncher.Launch;
using TrainLauncher.Output;
using TrainLauncher.Reporting;
using TrainLauncher.Storage;
using TrainLauncher.Tools;

namespace TrainLauncher.Upload;

/// <summary>
/// Step 10: what leaves the job after the command — `--output-dir` to DLS_TRAIN_URL and the job
/// log to DLS_UPLOAD_LOG_OBS_DIR. Neither is cancellable by a stop signal (partial checkpoints
/// and the log saying why the job stopped are what a user wants back), and neither changes the
/// status: a failure is a warning, or a line in the log.
/// </summary>
internal sealed class JobUploader(ToolRunner tools, ObjectStore? store, RunState state, ILogger log)
{
    /// <summary>--output-dir to DLS_TRAIN_URL, after any end of the command (failed or stopped too).</summary>
    public async Task UploadOutputsAsync(LaunchPlan plan)
    {
        if (plan.OutputUpload is not { } upload || store is null) return;
        state.Phase = LaunchPhase.Uploading;
        try
        {
            var stats = await store.UploadDirectoryAsync(upload.Dir, upload.Url, log, CancellationToken.None);
            CountUpload(stats);
        }
        catch (ObjectStoreException e)
        {
            log.OutputUploadFailed(e.Message);
            if (e.Partial is { } partial) CountUpload(partial);
        }
    }

    /// <summary>The log (and, with --per-device, each worker's log beside it), by dls-downloader or
    /// the built-in client; a failure is appended to the log.</summary>
    public async Task UploadLogAsync(LaunchPlan plan, JobLog jobLog)
    {
        var errors = new List<string>();
        IEnumerable<string> workerLogs = plan.Workers?.Workers.Select(w => w.LogPath).OfType<string>().Where(File.Exists) ?? [];
        foreach (string file in (string[])[plan.Settings.LogFile, .. workerLogs])
            if (await UploadLogFileAsync(plan, file) is { } failed) errors.Add(failed);
        string? error = errors.Count == 0 ? null : string.Join("; ", errors);
        if (error is null) return;
        try
        {
            await jobLog.AppendAsync($"Log upload error: {error}\n", log);
            log.LogUploadFailed();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogUploadFailedUnlogged(error, e.Message);
        }
    }

    /// <summary>One log file; null, or why it failed.</summary>
    private async Task<string?> UploadLogFileAsync(LaunchPlan plan, string file)
    {
        if (plan.UploadTool is not null)
        {
            state.Phase = LaunchPhase.Uploading;
            log.LogUploadWithTool(file, plan.Settings.LogUploadDir!);
            try
            {
                var result = await tools.RunAsync(plan.UploadTool, ["-s", file, "-d", plan.Settings.LogUploadDir!], CancellationToken.None);
                if (!result.Succeeded) return $"dls-downloader exited with status {result.ExitCode}: {OneLine.Escape(Code.CodeFetcher.Tail(result.Output))}";
            }
            catch (Exception e) when (e is Win32Exception or InvalidOperationException)
            {
                return $"dls-downloader could not be started: {e.Message}";
            }
        }
        else if (plan.BuiltinLogUpload is { } url && store is not null)
        {
            state.Phase = LaunchPhase.Uploading;
            log.LogUpload(file, url.ToString());
            try { CountUpload(await store.UploadFileAsync(file, url, log, CancellationToken.None)); }
            catch (ObjectStoreException e) { return e.Message; }
        }
        return null;
    }

    private void CountUpload(TransferStats stats)
    {
        state.Report.FilesUploaded = (state.Report.FilesUploaded ?? 0) + stats.Files;
        state.Report.BytesUploaded = (state.Report.BytesUploaded ?? 0) + stats.Bytes;
        state.Report.UploadsSkipped += stats.Skipped;
        state.Report.UploadsFailed += stats.Failed;
    }
}
