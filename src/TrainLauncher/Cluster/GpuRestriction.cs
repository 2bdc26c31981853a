namespace TrainLauncher.Cluster;

/// <summary>What <c>--gpus</c> changes: one variable for the command.</summary>
/// <param name="DeviceIds">The chosen devices' ids as the platform gave them (physical ids with the container variable or <c>all</c>).</param>
internal sealed record GpuRestriction(string Variable, string Value, int Count, IReadOnlyList<string> DeviceIds);
