namespace TrainLauncher.Cluster;

/// <summary>What <c>--gpus</c> changes: one variable for the command.</summary>
internal sealed record GpuRestriction(string Variable, string Value, int Count);
