namespace TrainLauncher.Launch;

/// <summary>Launcher options after parsing and validation: immutable, checked once.</summary>
internal sealed record LaunchOptions
{
    public bool Plan { get; init; }
    public bool Shell { get; init; }
    public bool NoStdbuf { get; init; }
    /// <summary>null = the default /tmp/dls-task-INDEX.log; empty = no log file.</summary>
    public string? LogFile { get; init; }
    public Serilog.Events.LogEventLevel LogLevel { get; init; } = Serilog.Events.LogEventLevel.Information;
    public LogFormat LogFormat { get; init; } = LogFormat.Text;
    public double StopGraceSeconds { get; init; } = 20;
    /// <summary>0 = no health endpoint.</summary>
    public int HealthPort { get; init; } = 8080;
    public string HealthBind { get; init; } = "0.0.0.0";
    /// <summary>null = /dev/termination-log when it exists and is writable; empty = none.</summary>
    public string? TerminationLog { get; init; }
    /// <summary>--gpus: indexes into the visible accelerators; null = all of them.</summary>
    public string? Gpus { get; init; }
    public int TfPort { get; init; } = 2222;
    /// <summary>--rank-table: write an HCCL rank table for a multi-node Ascend job without RANK_TABLE_FILE.</summary>
    public Cluster.RankTableMode RankTable { get; init; } = Cluster.RankTableMode.Auto;
    /// <summary>--per-device: one worker per visible accelerator (own device each, or all shared); off: one command.</summary>
    public Cluster.WorkerMode PerDevice { get; init; } = Cluster.WorkerMode.Off;
    /// <summary>--worker-prefix: "[rank N] " before each worker's line; null = on for more than one worker.</summary>
    public bool? WorkerPrefix { get; init; }
    public double WaitHostsSeconds { get; init; } = 600;
    /// <summary>Where /dev/nvidia* and /dev/davinci* are counted (tests point it elsewhere).</summary>
    public string DeviceDir { get; init; } = "/dev";
    public string? ObsEndpoint { get; init; }
    public string? Region { get; init; }
    public bool S3PathStyle { get; init; }
    /// <summary>Raw --transfers value; the storage settings validate it.</summary>
    public string? Transfers { get; init; }
    /// <summary>Uploaded to DLS_TRAIN_URL after the command; relative to the job dir.</summary>
    public string? OutputDir { get; init; }
    /// <summary>"auto", "off" or a requirements file (relative to the job dir).</summary>
    public string Requirements { get; init; } = "auto";
    /// <summary>Where DLS_DATA_URL is fetched; null = not fetched, "auto" = JOBDIR/data.</summary>
    public string? DataDir { get; init; }
    /// <summary>Synced with <see cref="CheckpointUrl"/>; null = no checkpoint sync.</summary>
    public string? CheckpointDir { get; init; }
    /// <summary>null = DLS_TRAIN_URL + checkpoints/.</summary>
    public string? CheckpointUrl { get; init; }
    public double CheckpointEverySeconds { get; init; } = 300;
    public double DlsPipeStallSeconds { get; init; } = 30;
    public bool CheckpointDelete { get; init; }
    /// <summary>0 = no hang watchdog.</summary>
    public double NoOutputTimeoutSeconds { get; init; }
    /// <summary>--no-output-action stop: a hang ends the job (status 124); else one warning.</summary>
    public bool StopOnNoOutput { get; init; }
    public DownloaderChoice Downloader { get; init; } = DownloaderChoice.Auto;
    public ToolPaths Tools { get; init; } = new();
    public IReadOnlyList<string> Command { get; init; } = [];
}
