using TrainLauncher.Launch;
using TrainLauncher.Storage;

namespace TrainLauncher.Data;

/// <summary>`--checkpoint-dir` and where it is synced, decided up front.</summary>
internal sealed record CheckpointPlan(string Dir, ObjectUrl Url, TimeSpan Every, bool Delete)
{
    /// <summary>null when --checkpoint-dir is not set.</summary>
    public static CheckpointPlan? Resolve(LaunchOptions options, JobSettings settings)
    {
        if (options.CheckpointDir is null) return null;
        string url = options.CheckpointUrl
            ?? (settings.TrainUrl is { } train ? train.TrimEnd('/') + "/checkpoints/"
                : throw LaunchFailure.Setup("--checkpoint-dir is set but neither --checkpoint-url nor DLS_TRAIN_URL says where to: set one, or drop --checkpoint-dir"));
        ObjectUrl parsed;
        try { parsed = ObjectUrl.Parse(url); }
        catch (ObjectStoreException e) { throw LaunchFailure.Setup($"{(options.CheckpointUrl is null ? "DLS_TRAIN_URL" : "--checkpoint-url")}: {e.Message}"); }
        string dir = OwnDirectory.Resolve(options.CheckpointDir, settings.JobDir, "--checkpoint-dir");
        return new CheckpointPlan(dir, parsed, TimeSpan.FromSeconds(options.CheckpointEverySeconds), options.CheckpointDelete);
    }

    public string Describe() =>
        $"{Dir} <-> {Url}: restored before the command, then every {Every.TotalSeconds:0.###} s what changed (size, mtime, a hash at equal size; files written in the last 2 s wait), "
        + $"one request at a time; a last sync after a stop signal and at the end; deletions {(Delete ? "propagated (--checkpoint-delete)" : "not propagated")}";
}
