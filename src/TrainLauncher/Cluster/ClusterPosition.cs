namespace TrainLauncher.Cluster;

/// <summary>This node's place in the job, with the effective values (the user's own win).</summary>
internal sealed record ClusterPosition(int NodeRank, int NodeCount, string MasterAddress, int MasterPort, int ProcessesPerNode)
{
    public bool IsMultiNode => NodeCount > 1;
}
