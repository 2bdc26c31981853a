namespace TrainLauncher.Tools;

/// <summary>What a platform tool did: its status and what it printed (bounded).</summary>
internal sealed record ToolResult(int ExitCode, string Stdout, string Stderr)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>Both streams, for error lines; never used for tools whose stdout is a secret.</summary>
    public string Output => (Stdout + Stderr).Trim();
}
