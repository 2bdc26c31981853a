namespace TrainLauncher.Variables;

/// <summary>How a variable came to differ from the launcher's own environment (for the plan).</summary>
internal enum EnvChange { Set, Removed, Secret }
