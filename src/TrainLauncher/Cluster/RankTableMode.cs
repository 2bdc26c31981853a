namespace TrainLauncher.Cluster;

/// <summary><c>--rank-table</c>: write an HCCL rank table for a multi-node Ascend job that has none (auto), or never (off).</summary>
internal enum RankTableMode { Auto, Off }
