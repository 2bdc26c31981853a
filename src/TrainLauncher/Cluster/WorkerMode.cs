namespace TrainLauncher.Cluster;

/// <summary><c>--per-device</c>: one command (off), or one worker per visible accelerator that sees
/// only its own device (own) or all of them and picks its own by DEVICE_ID (shared).</summary>
internal enum WorkerMode { Off, Own, Shared }
