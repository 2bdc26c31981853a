using TrainLauncher.Cluster;
using TrainLauncher.Code;
using TrainLauncher.Storage;
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
    /// <summary>DLS_DATA_URL and --data-dir; null: no data fetch.</summary>
    public Data.InputData? Data { get; init; }
    /// <summary>--checkpoint-dir and its URL; null: no checkpoint sync.</summary>
    public Data.CheckpointPlan? Checkpoints { get; init; }
    /// <summary>What pip installs after the fetch; null: nothing.</summary>
    public Data.RequirementsSource? Requirements { get; init; }
    /// <summary>Full path of dls-dns-fixer when DLS_USE_DNS_TCP asks for it and it is found.</summary>
    public string? DnsFixer { get; init; }
    public string? PipeTool { get; init; }
    /// <summary>dls-downloader's path when it uploads the log; null with the built-in client.</summary>
    public string? UploadTool { get; init; }
    /// <summary>Where the built-in client puts the log (DLS_USE_UPLOADER without the tool).</summary>
    public ObjectUrl? BuiltinLogUpload { get; init; }
    /// <summary>--output-dir (full path) and DLS_TRAIN_URL, when outputs are uploaded.</summary>
    public (string Dir, ObjectUrl Url)? OutputUpload { get; init; }
    public required AcceleratorVisibility Accelerators { get; init; }
    public GpuRestriction? Gpus { get; init; }
    public required ClusterPlan Cluster { get; init; }
    public required RankTablePlan RankTable { get; init; }
    /// <summary>--per-device: the workers to start in place of one command; null: one command.</summary>
    public WorkerPlan? Workers { get; init; }
    /// <summary>TORCHELASTIC_ERROR_FILE as the command gets it, read when the command fails.</summary>
    public required string ErrorFile { get; init; }
    /// <summary>True when the launcher chose <see cref="ErrorFile"/> (so a stale one of an earlier run is removed).</summary>
    public bool ErrorFileIsOurs { get; init; }
    /// <summary>True when any transfer uses the built-in object-storage client.</summary>
    public bool NeedsObjectStore => Code is CodeSource.ObjectStore || Data?.Source is CodeSource.ObjectStore
        || Checkpoints is not null || BuiltinLogUpload is not null || OutputUpload is not null;
    /// <summary>stdbuf's path when the command's stdio will be line-buffered.</summary>
    public string? Stdbuf { get; init; }
    /// <summary>The user's argv, or /bin/sh -c "..." with --shell.</summary>
    public required IReadOnlyList<string> Argv { get; init; }
}
