using Microsoft.Extensions.Logging;

namespace TrainLauncher.Cluster;

/// <summary>The node's place in the job, for the header, and the wait for the master (ids 300–399).
/// The texts are those of <see cref="ClusterPlan.Describe"/>, which `plan` prints.</summary>
internal static partial class ClusterEvents
{
    [LoggerMessage(301, LogLevel.Information, "cluster: node {NodeRank} of {NodeCount} ({Sources}), master {MasterAddress}:{MasterPort}, {ProcessesPerNode} process(es) per node")]
    public static partial void ClusterNode(this ILogger log, int nodeRank, int nodeCount, string sources, string masterAddress, int masterPort, int processesPerNode);

    [LoggerMessage(302, LogLevel.Information, "cluster: single node ({Sources}), {ProcessesPerNode} process(es) per node")]
    public static partial void ClusterSingleNode(this ILogger log, string sources, int processesPerNode);

    [LoggerMessage(303, LogLevel.Information, "cluster: sets {Variable}={Value}")]
    public static partial void ClusterSets(this ILogger log, string variable, string value);

    [LoggerMessage(304, LogLevel.Information, "cluster: keeps {Variable}={Value} (already set)")]
    public static partial void ClusterKeeps(this ILogger log, string variable, string value);

    [LoggerMessage(305, LogLevel.Information, "cluster: {Note}")]
    public static partial void ClusterNote(this ILogger log, string note);

    [LoggerMessage(306, LogLevel.Information, "workers: {Summary}")]
    public static partial void WorkersPlanned(this ILogger log, string summary, int Workers, bool Prefix);

    [LoggerMessage(307, LogLevel.Information, "workers: {Worker}: {Variables}")]
    public static partial void WorkerPlanned(this ILogger log, string worker, string variables, int LocalRank, int Rank, string DeviceId);

    [LoggerMessage(310, LogLevel.Information, "waiting up to {Seconds:0} s for the master {Host} to resolve ({Reason})")]
    public static partial void MasterWaiting(this ILogger log, double seconds, string host, string reason);

    [LoggerMessage(311, LogLevel.Information, "still waiting for the master {Host} ({Seconds:0} s, {Reason})")]
    public static partial void MasterStillWaiting(this ILogger log, string host, double seconds, string reason);

    [LoggerMessage(312, LogLevel.Information, "master {Host} resolved to {Address} after {Attempts} tries")]
    public static partial void MasterResolved(this ILogger log, string host, string address, int attempts);
}
