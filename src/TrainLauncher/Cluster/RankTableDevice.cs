namespace TrainLauncher.Cluster;

/// <summary>One device of an HCCL rank table: the server it is on, its physical id, its global rank.</summary>
internal sealed record RankTableDevice(string ServerId, string DeviceId, int RankId);
