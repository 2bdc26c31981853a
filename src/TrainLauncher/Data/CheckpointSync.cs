using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TrainLauncher.Launch;
using TrainLauncher.Output;
using TrainLauncher.Reporting;
using TrainLauncher.Storage;

namespace TrainLauncher.Data;

/// <summary>
/// `--checkpoint-dir` ↔ `--checkpoint-url` (issue 15), as SageMaker syncs /opt/ml/checkpoints:
/// before the command what the URL holds is restored (a preempted job resumes); while it runs,
/// every `--checkpoint-every` seconds the files whose size or mtime changed are uploaded, except
/// those written in the last 2 s (still being written); a file of the same size with a new mtime
/// is hashed and goes up only when its bytes differ from what this run last sent (a checkpoint
/// rewritten unchanged, or only touched, is not sent again); a stop signal starts a sync at once,
/// and the launch runs a last one after the command, before the uploads (files of any age: the
/// command is gone). One sync at a time, one request at a time (its hashing and uploading never
/// take more than one core from the training); a failed pass is a warning and the next one retries.
/// Deletions are propagated only with --checkpoint-delete, and only for keys this run knew.
/// A hosted service: the host stops it after the launch, so a launch that ended early still
/// gets its last sync; the launch drives it because the store exists only after decryption.
/// </summary>
internal sealed class CheckpointSync(RunState state, ILogger log) : IHostedService
{
    private static readonly TimeSpan Settling = TimeSpan.FromSeconds(2);

    /// <summary>Relative key → (size, mtime) as last restored or uploaded, and its SHA-256 when
    /// it was hashed (a same-size change); null when not known.</summary>
    private readonly Dictionary<string, Seen> _synced = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly CancellationTokenSource _stopPeriodic = new();
    private CheckpointPlan? _plan;
    private ObjectStore? _store;
    private Task _periodic = Task.CompletedTask;
    private bool _finished;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The host's stop: the last sync if the launch did not run it.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => FinishAsync();

    /// <summary>Before the command: restores what the URL holds into the directory, then starts the periodic sync.</summary>
    /// <exception cref="LaunchFailure">127 when the restore fails: the job would silently start from zero.</exception>
    public async Task StartSyncingAsync(CheckpointPlan? plan, ObjectStore? store, CancellationToken stopping)
    {
        if (plan is null || store is null) return;
        (_plan, _store) = (plan, store);
        state.Phase = LaunchPhase.Syncing;
        Directory.CreateDirectory(plan.Dir);
        try
        {
            if (await store.AnyUnderAsync(plan.Url, stopping)) await RestoreAsync(plan, store, stopping);
            else log.CheckpointNothingToRestore(plan.Url.ToString());
        }
        catch (Exception e) when (e is ObjectStoreException or IOException or UnauthorizedAccessException)
        {
            string why = e is ObjectStoreException ? e.Message : LocalFileException.From(e).Message;
            throw new LaunchFailure(ExitCodes.FetchFailed, $"the checkpoint restore from {plan.Url} into {OneLine.Escape(plan.Dir)} failed: {why}; the command was not run");
        }
        _periodic = PeriodicAsync(plan.Every, stopping);
    }

    /// <summary>After the command (or at the host's stop): the periodic sync ends and one last sync runs.</summary>
    public async Task FinishAsync()
    {
        if (_plan is null || _finished) return;
        _finished = true;
        await _stopPeriodic.CancelAsync();
        // Whatever ended the periodic passes, the last sync still runs.
        try { await _periodic; }
        catch (Exception e) { log.CheckpointSyncFailed($"{e.GetType().Name}: {OneLine.Escape(e.Message)}"); }
        state.Phase = LaunchPhase.Syncing;
        await SyncAsync(final: true);
    }

    private async Task RestoreAsync(CheckpointPlan plan, ObjectStore store, CancellationToken stopping)
    {
        // Staged beside the directory and moved in file by file: the files the image or an
        // earlier attempt left there stay unless the store has a newer copy.
        string staging = Path.Combine(Path.GetDirectoryName(plan.Dir)!, $".trainlauncher-restore-{Guid.NewGuid():N}");
        try
        {
            var stats = await store.DownloadPrefixAsync(plan.Url, staging, log, stopping);
            foreach (var file in Directory.EnumerateFiles(staging, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
            {
                string key = Path.GetRelativePath(staging, file).Replace('\\', '/');
                string target = Path.Combine(plan.Dir, key);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Move(file, target, overwrite: true);
                var info = new FileInfo(target);
                _synced[key] = new Seen(info.Length, info.LastWriteTimeUtc, null);
            }
            state.Report.CheckpointFilesRestored = stats.Files;
            state.Report.CheckpointBytesRestored = stats.Bytes;
            state.LastCheckpointSync = DateTimeOffset.UtcNow;
        }
        finally
        {
            try { if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { log.CheckpointStagingNotRemoved(OneLine.Escape(staging), e.Message); }
        }
    }

    private async Task PeriodicAsync(TimeSpan every, CancellationToken stopping)
    {
        // A stop signal: sync at once, while the command writes its last checkpoint in the grace.
        using var onStop = stopping.Register(() => _stopPeriodic.CancelAfter(TimeSpan.Zero));
        using var timer = new PeriodicTimer(every);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopPeriodic.Token))
                await SyncAsync(final: false);
        }
        catch (OperationCanceledException) { }
        if (stopping.IsCancellationRequested && !_finished) await SyncAsync(final: false);
    }

    /// <summary>The files whose size or mtime differ from what was synced (settled ones only, unless
    /// final) and, at the same size, whose bytes differ too; and every file's key.</summary>
    /// <summary>Complete is false when an entry could not be read: what it holds is unknown, so
    /// nothing under the directory may count as deleted.</summary>
    private (Dictionary<string, Seen> Changed, HashSet<string> Present, bool Complete) Changes(string dir, bool final)
    {
        var changed = new Dictionary<string, Seen>(StringComparer.Ordinal);
        var present = new HashSet<string>(StringComparer.Ordinal);
        var settledBefore = DateTime.UtcNow - Settling;
        bool complete = true;
        foreach (var entry in LocalTree.Walk(dir))
        {
            if (entry is LocalTree.Entry.Failed) complete = false;
            if (entry is not LocalTree.Entry.File file) continue;
            present.Add(file.Key);
            DateTime modified;
            try { modified = File.GetLastWriteTimeUtc(file.Path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            if (!final && modified > settledBefore) continue;
            if (!_synced.TryGetValue(file.Key, out var known))
                changed[file.Key] = new Seen(file.Size, modified, null);
            else if (known.Size != file.Size)
                changed[file.Key] = new Seen(file.Size, modified, null);
            else if (known.Modified != modified && Hash(file.Path) is { } hash)
            {
                if (known.Hash is not null && known.Hash.AsSpan().SequenceEqual(hash)) _synced[file.Key] = known with { Modified = modified };
                else changed[file.Key] = new Seen(file.Size, modified, hash);
            }
        }
        return (changed, present, complete);
    }

    /// <summary>SHA-256 of a file, streamed; null when it cannot be read (the upload will say why).</summary>
    private static byte[]? Hash(string path)
    {
        try
        {
            using var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite, BufferSize = 0 });
            using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
            try
            {
                int n;
                while ((n = stream.Read(buffer, 0, buffer.Length)) > 0) sha.AppendData(buffer, 0, n);
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
            return sha.GetHashAndReset();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }

    /// <summary>What the sync last saw of a file.</summary>
    private sealed record Seen(long Size, DateTime Modified, byte[]? Hash);

    private async Task SyncAsync(bool final)
    {
        var (plan, store) = (_plan!, _store!);
        await _oneAtATime.WaitAsync();
        try
        {
            var (changed, present, complete) = Changes(plan.Dir, final);
            if (changed.Count > 0)
            {
                var stats = await store.UploadDirectoryAsync(plan.Dir, plan.Url, log, CancellationToken.None,
                    entry => entry is LocalTree.Entry.File file && changed.ContainsKey(file.Key), maxTransfers: 1);
                // A file that failed to go up (one warning each) is not recorded: the next pass retries it.
                if (stats.Failed == 0)
                    foreach (var (key, seen) in changed) _synced[key] = seen;
                state.Report.CheckpointFilesSynced = (state.Report.CheckpointFilesSynced ?? 0) + stats.Files;
                state.Report.CheckpointBytesSynced = (state.Report.CheckpointBytesSynced ?? 0) + stats.Bytes;
            }
            if (plan.Delete && complete)
            {
                var gone = _synced.Keys.Where(k => !present.Contains(k)).ToList();
                await store.DeleteAsync(plan.Url, gone, CancellationToken.None);
                foreach (var key in gone) _synced.Remove(key);
            }
            state.LastCheckpointSync = DateTimeOffset.UtcNow;
        }
        catch (Exception e) when (e is ObjectStoreException or IOException or UnauthorizedAccessException)
        {
            log.CheckpointSyncFailed(e is ObjectStoreException ? e.Message : LocalFileException.From(e).Message);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }
}
