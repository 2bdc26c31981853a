namespace TrainLauncher.Cluster;

/// <summary>One <c>--per-device</c> worker, as plain data: its place in the job and what its
/// environment adds to (or changes in) the job's.</summary>
/// <param name="LocalRank">Its index on this node, 0..workers-1.</param>
/// <param name="Rank">Its global rank: node rank × workers per node + local rank.</param>
/// <param name="DeviceId">The id of its device as the platform gave it (a physical id with the container variable or <c>all</c>).</param>
/// <param name="Variables">Set for this worker on top of the job's environment; they win over the job's.</param>
/// <param name="LogPath">Its own log file (its output byte for byte), or null without a job log.</param>
/// <param name="ErrorFile">Its TORCHELASTIC_ERROR_FILE, read when it fails.</param>
internal sealed record WorkerSpec(
    int LocalRank,
    int Rank,
    string DeviceId,
    IReadOnlyList<KeyValuePair<string, string>> Variables,
    string? LogPath,
    string ErrorFile)
{
    /// <summary>How messages name it: "worker 1 (rank 3, device 1)".</summary>
    public string Name => $"worker {LocalRank} (rank {Rank}, device {Output.OneLine.Escape(DeviceId)})";
}
