using CliWrap;
using Microsoft.Extensions.Logging;
using TrainLauncher.Launch;
using TrainLauncher.Output;
using TrainLauncher.Reporting;
using TrainLauncher.Storage;
using TrainLauncher.Tools;

namespace TrainLauncher.Code;

/// <summary>
/// SPEC 6: fetches the code directory into the job dir. Everything lands in a temporary
/// directory inside the job dir first and is renamed into place only when complete, so a
/// failed or cancelled fetch never leaves a directory that looks like the code.
/// </summary>
internal sealed class CodeFetcher(ToolRunner tools, ConsoleGate console, ObjectStore? store, ILogger log)
{
    public const string DownloaderLog = "/tmp/dls-downloader.log";

    /// <summary>How much of a failed dls-downloader's output goes into the error line (all of it was shown and kept in <see cref="DownloaderLog"/>).</summary>
    private const int OutputTail = 2000;

    /// <summary>Step 8. False when the fetch failed: `App download error:` and the reason are in
    /// the log and on stdout, and the command must not run.</summary>
    public async Task<bool> FetchCodeAsync(LaunchPlan plan, JobLog jobLog, RunState state, CancellationToken cancellation)
    {
        if (plan.Code is null) return true;
        state.Phase = LaunchPhase.Fetching;
        log.FetchStarted(plan.Settings.AppUrl!, Path.Combine(plan.Settings.JobDir, plan.Code.TargetName));
        try
        {
            var fetched = await FetchAsync(plan.Code, plan.Settings.JobDir, cancellation);
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
            try
            {
                await jobLog.AppendAsync(text, log);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A full disk: the status stays the fetch's, the text is on stdout and in the termination message.
                log.LogStopped(e.Message);
            }
            console.WriteMessage(text);
            log.FetchFailed(ExitCodes.FetchFailed);
            return false;
        }
    }

    /// <returns>Files and bytes fetched, for the run summary.</returns>
    public async Task<TransferStats?> FetchAsync(CodeSource source, string jobDir, CancellationToken cancellation)
    {
        TransferStats? stats = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string staging = Path.Combine(jobDir, $".trainlauncher-fetch-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(staging);
            switch (source)
            {
                case CodeSource.LocalCopy local:
                    CopyLocal(local.Path, Path.Combine(staging, source.TargetName), cancellation);
                    break;
                case CodeSource.Downloader downloader:
                    await DownloadAsync(downloader, staging, cancellation);
                    break;
                case CodeSource.ObjectStore objects:
                    try { stats = await store!.DownloadPrefixAsync(objects.Url, Path.Combine(staging, source.TargetName), log, cancellation); }
                    catch (ObjectStoreException e) { throw new FetchFailure(e.Message); }
                    break;
            }
            stats ??= Count(staging, clock.Elapsed);
            MoveIntoPlace(staging, jobDir);
            return stats;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The job dir's own file system (full, read-only, not ours): still a fetch failure, 127.
            throw new FetchFailure($"cannot fetch into {OneLine.Escape(jobDir)}: {LocalFileException.From(e).Message}");
        }
        finally
        {
            try { if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { log.StagingNotRemoved(OneLine.Escape(staging), LocalFileException.From(e).Message); }
        }
    }

    /// <summary>`cp -a SRC ./`: modes, times and symlinks kept; only regular files are read (a FIFO would hang the copy).</summary>
    private void CopyLocal(string source, string target, CancellationToken cancellation)
    {
        try
        {
            if (Directory.Exists(source)) CopyDirectory(new DirectoryInfo(source), target, cancellation);
            else if (File.Exists(source)) CopyFile(source, target, followLink: true);
            else throw new FetchFailure($"cannot copy {OneLine.Escape(source)}: no such file or directory");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or LocalFileException)
        {
            throw new FetchFailure($"cannot copy {OneLine.Escape(source)}: {LocalFileException.From(e).Message}");
        }
    }

    private void CopyDirectory(DirectoryInfo source, string target, CancellationToken cancellation)
    {
        var created = Directory.CreateDirectory(target);
        foreach (var entry in source.EnumerateFileSystemInfos())
        {
            cancellation.ThrowIfCancellationRequested();
            string destination = Path.Combine(target, entry.Name);
            if (entry.LinkTarget is { } link) File.CreateSymbolicLink(destination, link);
            else if (entry is DirectoryInfo dir) CopyDirectory(dir, destination, cancellation);
            else if (LocalFiles.Inspect(entry.FullName).Kind is var kind && kind != LocalFileKind.Regular)
                log.CodeEntrySkipped(OneLine.Escape(entry.FullName), $"{LocalFiles.Describe(kind)}, not a regular file");
            else CopyFile(entry.FullName, destination, followLink: false);
        }
        created.UnixFileMode = source.UnixFileMode;
        created.LastWriteTimeUtc = source.LastWriteTimeUtc;
    }

    /// <summary>Copies a regular file with its mode and time; anything else is a <see cref="LocalFileException"/>.</summary>
    private static void CopyFile(string source, string target, bool followLink)
    {
        var (handle, _) = LocalFiles.OpenRegular(source, followLink);
        using (handle)
        using (var input = new FileStream(handle, FileAccess.Read, bufferSize: 0))
        using (var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            input.CopyTo(output, 1 << 20);
            File.SetUnixFileMode(output.SafeFileHandle, File.GetUnixFileMode(handle));
        }
        File.SetLastWriteTimeUtc(target, File.GetLastWriteTimeUtc(source));
    }

    /// <summary>`dls-downloader -r -s URL -d ./` in the staging dir; output shown and kept in /tmp/dls-downloader.log.</summary>
    private async Task DownloadAsync(CodeSource.Downloader downloader, string staging, CancellationToken cancellation)
    {
        console.BeginCommandOutput();
        try
        {
            await using var downloaderLog = OpenDownloaderLog();
            var shown = PipeTarget.Merge(PipeTarget.ToStream(downloaderLog), PipeTarget.ToDelegate(line => console.WriteCommandOutput(System.Text.Encoding.UTF8.GetBytes(line + "\n"))));
            var result = await tools.RunAsync(downloader.Tool, ["-r", "-s", downloader.Url, "-d", "./"], cancellation,
                workingDirectory: staging, alsoOutputTo: shown);
            if (!result.Succeeded)
                throw new FetchFailure($"dls-downloader exited with status {result.ExitCode}: {OneLine.Escape(Tail(result.Output))}");
        }
        finally
        {
            console.EndCommandOutput();
        }
        if (!Directory.EnumerateFileSystemEntries(staging).Any())
            throw new FetchFailure($"dls-downloader reported success but fetched nothing from {OneLine.Escape(downloader.Url)}");
    }

    /// <summary>The end of a tool's output, where its error is.</summary>
    public static string Tail(string output) => output.Length <= OutputTail ? output : "…" + output[^OutputTail..];

    // Shared, not locked: .NET's default FileShare.None takes an exclusive lock, and a second
    // launcher on the node (another task) would then fail to fetch at all.
    private static FileStream OpenDownloaderLog() => new(DownloaderLog, FileMode.Create, FileAccess.Write, FileShare.ReadWrite);

    /// <summary>Files and bytes a copy or dls-downloader put in the staging dir (the built-in client counts its own).</summary>
    private static TransferStats Count(string staging, TimeSpan elapsed)
    {
        var files = new DirectoryInfo(staging).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(f => f.LinkTarget is null).ToList();
        return new TransferStats(files.Count, files.Sum(f => f.Length), elapsed);
    }

    /// <summary>Renames each fetched entry into the job dir, replacing an earlier copy of it.</summary>
    private static void MoveIntoPlace(string staging, string jobDir)
    {
        foreach (var entry in new DirectoryInfo(staging).EnumerateFileSystemInfos())
        {
            string destination = Path.Combine(jobDir, entry.Name);
            if (Directory.Exists(destination) && new DirectoryInfo(destination).LinkTarget is null) Directory.Delete(destination, recursive: true);
            else if (File.Exists(destination) || Directory.Exists(destination)) File.Delete(destination);
            if (entry is DirectoryInfo dir) dir.MoveTo(destination);
            else ((FileInfo)entry).MoveTo(destination);
        }
    }
}
