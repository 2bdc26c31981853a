namespace TrainLauncher.Launch;

/// <summary>SPEC 11's phases, in the order a run passes through them.</summary>
internal enum LaunchPhase { Starting, Decrypting, Fetching, Installing, Syncing, Running, Uploading, Done }
