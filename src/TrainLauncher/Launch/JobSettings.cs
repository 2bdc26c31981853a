using System.Globalization;

namespace TrainLauncher.Launch;

/// <summary>
/// The platform variables of SPEC 2 that the flow reads, parsed and checked once, before any
/// step acts: a malformed value stops the launch with one line naming the variable.
/// </summary>
internal sealed record JobSettings
{
    public required string HomeDir { get; init; }
    public required string JobDir { get; init; }
    public string? JobId { get; init; }
    public int TaskIndex { get; init; }
    public string? AppUrl { get; init; }
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
        int taskIndex = WholeNumber(env, "DLS_TASK_INDEX", 0);
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

    public static string? NonEmpty(IReadOnlyDictionary<string, string> env, string name) =>
        env.TryGetValue(name, out var v) && v.Length > 0 ? v : null;

    public static int WholeNumber(IReadOnlyDictionary<string, string> env, string name, int fallback)
    {
        string? text = NonEmpty(env, name);
        if (text is null) return fallback;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw LaunchFailure.Setup($"{name} must be a whole number >= 0, got '{text}'");
    }
}
