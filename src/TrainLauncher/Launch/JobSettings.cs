using TrainLauncher.Cluster;

namespace TrainLauncher.Launch;

/// <summary>
/// The platform variables of SPEC 2 that the flow reads, parsed and checked once, before any
/// step acts: a malformed value stops the launch with one line naming the variable. Each
/// variable is read in one place: these here, the layout (DLS_TASK_INDEX included) in
/// <see cref="PlatformLayout"/>, the key tools' in SecretDecryptor, the store's in ObjectStoreSettings.
/// </summary>
internal sealed record JobSettings
{
    public required string HomeDir { get; init; }
    public required string JobDir { get; init; }
    public string? JobId { get; init; }
    public int TaskIndex { get; init; }
    public string? AppUrl { get; init; }
    /// <summary>DLS_TRAIN_URL: where --output-dir goes.</summary>
    public string? TrainUrl { get; init; }
    /// <summary>DLS_DATA_URL: fetched into --data-dir when that is on, else only passed through.</summary>
    public string? DataUrl { get; init; }
    public bool UseDnsTcp { get; init; }
    public bool UseDownloader { get; init; }
    public bool UseUploader { get; init; }
    public string? LogUploadDir { get; init; }
    /// <summary>Empty when there is no log file.</summary>
    public required string LogFile { get; init; }

    public static JobSettings Resolve(LaunchOptions options, IReadOnlyDictionary<string, string> env, string currentDirectory)
    {
        string home = NonEmpty(env, "DLS_USER_HOME_DIR") ?? NonEmpty(env, "HOME") ?? currentDirectory;
        string jobDir = NonEmpty(env, "DLS_USER_JOB_DIR") ?? Path.Combine(home, "user-job-dir");
        int taskIndex = PlatformLayout.TaskIndex(env);
        string logFile = options.LogFile ?? $"/tmp/dls-task-{taskIndex}.log";

        bool useUploader = Switch(env, "DLS_USE_UPLOADER");
        string? uploadDir = null;
        if (useUploader)
        {
            string dir = NonEmpty(env, "DLS_UPLOAD_LOG_OBS_DIR")
                ?? throw LaunchFailure.Setup("DLS_USE_UPLOADER asks for a log upload but DLS_UPLOAD_LOG_OBS_DIR is empty: set it, or set DLS_USE_UPLOADER=0");
            if (logFile.Length == 0)
                throw LaunchFailure.Setup("DLS_USE_UPLOADER asks for a log upload but --log-file is empty: give a log file, or set DLS_USE_UPLOADER=0");
            string id = NonEmpty(env, "DLS_DLKS_JOB_ID") ?? "unknown-id";
            uploadDir = dir.TrimEnd('/') + "/dls-log-" + id;
        }

        return new JobSettings
        {
            HomeDir = Path.GetFullPath(home, currentDirectory),
            JobDir = Path.GetFullPath(jobDir, currentDirectory),
            JobId = NonEmpty(env, "DLS_JOB_ID"),
            TaskIndex = taskIndex,
            AppUrl = NonEmpty(env, "DLS_APP_URL"),
            TrainUrl = NonEmpty(env, "DLS_TRAIN_URL"),
            DataUrl = NonEmpty(env, "DLS_DATA_URL"),
            UseDnsTcp = Switch(env, "DLS_USE_DNS_TCP"),
            UseDownloader = Switch(env, "DLS_USE_DOWNLOADER"),
            UseUploader = useUploader,
            LogUploadDir = uploadDir,
            LogFile = logFile.Length == 0 ? "" : Path.GetFullPath(logFile, currentDirectory),
        };
    }

    /// <summary>run_train.sh's rule for DLS_USE_*: non-empty and not "0".</summary>
    public static bool Switch(IReadOnlyDictionary<string, string> env, string name) =>
        env.TryGetValue(name, out var v) && v.Length > 0 && v != "0";

    private static string? NonEmpty(IReadOnlyDictionary<string, string> env, string name) =>
        env.TryGetValue(name, out var v) && v.Length > 0 ? v : null;
}
