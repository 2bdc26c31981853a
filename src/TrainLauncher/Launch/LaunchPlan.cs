using TrainLauncher.Code;
using TrainLauncher.Variables;
using TrainLauncher.Secrets;

namespace TrainLauncher.Launch;

/// <summary>
/// Everything a run will do, decided before anything is done: which variables change, which
/// tool does each step, what is fetched where, which argv runs. `plan` prints it; a run acts
/// on it. Secrets are not in it: they are decrypted by the run (or the plan's check) only.
/// </summary>
internal sealed record LaunchPlan
{
    public required LaunchOptions Options { get; init; }
    public required JobSettings Settings { get; init; }
    public required JobEnvironment Environment { get; init; }
    public required DecryptionMethod Decryption { get; init; }
    public required IReadOnlyList<KeyValuePair<string, string>> Encrypted { get; init; }
    public required CodeSource? Code { get; init; }
    /// <summary>Full path of dls-dns-fixer when DLS_USE_DNS_TCP asks for it and it is found.</summary>
    public string? DnsFixer { get; init; }
    public string? PipeTool { get; init; }
    public string? UploadTool { get; init; }
    /// <summary>stdbuf's path when the command's stdio will be line-buffered.</summary>
    public string? Stdbuf { get; init; }
    /// <summary>The user's argv, or /bin/sh -c "..." with --shell.</summary>
    public required IReadOnlyList<string> Argv { get; init; }
}
