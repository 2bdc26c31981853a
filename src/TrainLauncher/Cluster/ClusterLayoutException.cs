namespace TrainLauncher.Cluster;

/// <summary>
/// The one failure of the Cluster step (bad layout variable, bad <c>--gpus</c>, master never
/// resolved). The message is a single line naming the wrong variable and what to do; the
/// launcher prints it and exits 125 before starting the command.
/// </summary>
internal sealed class ClusterLayoutException(string message) : Exception(message);
