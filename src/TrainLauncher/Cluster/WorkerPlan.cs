using System.Globalization;
using TrainLauncher.Output;

namespace TrainLauncher.Cluster;

/// <summary>
/// <c>--per-device</c> as plain data (describe first, act later): one worker per visible
/// accelerator after <c>--gpus</c>, torchrun's <c>--nproc-per-node</c> layout for programs that
/// are not torch. Each worker gets LOCAL_RANK, LOCAL_WORLD_SIZE, RANK and WORLD_SIZE (global),
/// DEVICE_ID, RANK_ID and RANK_SIZE (Ascend's names; from the rank table when there is one) and
/// its device's visibility. As torchrun's, these per-worker values replace the job's (the
/// launcher's single-process defaults and a user's own alike).
/// </summary>
/// <param name="Prefix">"[rank N] " before each line of a worker's output (--worker-prefix).</param>
internal sealed record WorkerPlan(WorkerMode Mode, string? VisibilityVariable, bool Prefix, IReadOnlyList<WorkerSpec> Workers)
{
    /// <param name="devices">The visible accelerators (the primary kind).</param>
    /// <param name="gpus">--gpus, when it restricts them.</param>
    /// <param name="jobLog">The job log's path ("" for none): each worker's log is named after it.</param>
    /// <param name="errorFile">The job's TORCHELASTIC_ERROR_FILE; <paramref name="errorFileIsOurs"/>: each worker gets its own beside it.</param>
    /// <returns>Null when <paramref name="mode"/> is off.</returns>
    /// <exception cref="ClusterLayoutException">--per-device with no visible accelerator.</exception>
    public static WorkerPlan? Plan(
        WorkerMode mode, bool? prefix, DeviceSet devices, GpuRestriction? gpus, ClusterPosition position, RankTablePlan rankTable,
        string jobLog, string errorFile, bool errorFileIsOurs)
    {
        if (mode == WorkerMode.Off) return null;
        var ids = gpus?.DeviceIds ?? devices.Ids;
        if (ids.Count == 0)
            throw new ClusterLayoutException($"--per-device: no accelerator is visible ({devices.Describe()}): make devices visible or drop --per-device");
        // The runtime's own ids (CUDA_/ASCEND_RT_VISIBLE_DEVICES), in the same order as ids.
        var runtimeIds = gpus is not null ? gpus.Value.Split(',') : [.. Enumerable.Range(0, ids.Count).Select(devices.RuntimeId)];
        int count = ids.Count, world = position.NodeCount * count;
        bool tableRanks = rankTable.LocalRanks.Count == count;
        var workers = new List<WorkerSpec>();
        for (int local = 0; local < count; local++)
        {
            int rank = position.NodeRank * count + local;
            var variables = new List<KeyValuePair<string, string>>
            {
                new("LOCAL_RANK", Text(local)),
                new("LOCAL_WORLD_SIZE", Text(count)),
                new("RANK", Text(rank)),
                new("WORLD_SIZE", Text(world)),
                new("DEVICE_ID", ids[local]),
                new(RankTables.RankId, Text(tableRanks ? rankTable.LocalRanks[local] : rank)),
                new(RankTables.RankSize, Text(rankTable.RankSize > 0 ? rankTable.RankSize : world)),
            };
            if (mode == WorkerMode.Own) variables.Add(new(devices.RuntimeVariable, runtimeIds[local]));
            string workerErrorFile = errorFileIsOurs ? Beside(errorFile, local) : errorFile;
            if (errorFileIsOurs) variables.Add(new(Reporting.ElasticErrorFile.Variable, workerErrorFile));
            workers.Add(new WorkerSpec(local, rank, ids[local], variables, jobLog.Length > 0 ? Beside(jobLog, local) : null, workerErrorFile));
        }
        return new WorkerPlan(mode, mode == WorkerMode.Own ? devices.RuntimeVariable : null, prefix ?? count > 1, workers);
    }

    /// <summary>The job's environment with <paramref name="worker"/>'s variables on top, sorted as the job's.</summary>
    public static KeyValuePair<string, string>[] Environment(IReadOnlyDictionary<string, string> job, WorkerSpec worker)
    {
        var merged = new Dictionary<string, string>(job, StringComparer.Ordinal);
        foreach (var (name, value) in worker.Variables) merged[name] = value;
        return [.. merged.OrderBy(p => p.Key, StringComparer.Ordinal)];
    }

    /// <summary>The header's worker lines as events with fields; the same text as <see cref="Describe"/>.</summary>
    public void Report(Microsoft.Extensions.Logging.ILogger log)
    {
        log.WorkersPlanned(Summary(), Workers.Count, Prefix);
        foreach (var w in Workers) log.WorkerPlanned(w.Name, Details(w), w.LocalRank, w.Rank, w.DeviceId);
    }

    /// <summary>Lines for <c>plan</c>.</summary>
    public IEnumerable<string> Describe()
    {
        yield return $"workers: {Summary()}";
        foreach (var w in Workers) yield return $"workers: {w.Name}: {Details(w)}";
    }

    private string Summary() =>
        $"{Workers.Count} (--per-device{(Mode == WorkerMode.Shared ? "=shared: every worker sees all devices" : $": one device each via {VisibilityVariable}")}), output prefix {(Prefix ? "on" : "off")}";

    private static string Details(WorkerSpec w) =>
        string.Join(' ', w.Variables.Select(v => $"{v.Key}={OneLine.Escape(v.Value)}")) + (w.LogPath is null ? "" : $", log {OneLine.Escape(w.LogPath)}");

    /// <summary>"/tmp/dls-task-0.log" → "/tmp/dls-task-0-worker-1.log": a worker's file beside the job's.</summary>
    private static string Beside(string path, int localRank)
    {
        string extension = Path.GetExtension(path);
        return Path.Combine(Path.GetDirectoryName(path) ?? "", $"{Path.GetFileNameWithoutExtension(path)}-worker-{Text(localRank)}{extension}");
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
