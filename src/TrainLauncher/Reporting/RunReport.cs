namespace TrainLauncher.Reporting;

/// <summary>
/// Plain figures of one run for the summary. Null means "not measured": the fetch and upload
/// steps fill in what they know.
/// </summary>
internal sealed class RunReport
{
    public long? BytesFetched { get; set; }
    public int? FilesFetched { get; set; }
    /// <summary>DLS_DATA_URL's fetch (--data-dir).</summary>
    public long? BytesData { get; set; }
    public int? FilesData { get; set; }
    public long? BytesUploaded { get; set; }
    /// <summary>--checkpoint-dir: restored before the command, and uploaded by all syncs together.</summary>
    public int? CheckpointFilesRestored { get; set; }
    public long? CheckpointBytesRestored { get; set; }
    public int? CheckpointFilesSynced { get; set; }
    public long? CheckpointBytesSynced { get; set; }
    public int? FilesUploaded { get; set; }
    /// <summary>Entries of the uploads that were skipped (links, FIFOs, ...) or could not be read.</summary>
    public int UploadsSkipped { get; set; }
    public int UploadsFailed { get; set; }
    /// <summary>Bytes of the command's output (stdout + stderr).</summary>
    public long? OutputBytes { get; set; }
    /// <summary>Largest resident set of a child process, from getrusage(RUSAGE_CHILDREN) after the command was reaped.</summary>
    public long? PeakRssBytes { get; set; }
    /// <summary>How the command ended ("exit status 1", "signal SIGKILL"), when it ran.</summary>
    public string? CommandEnd { get; set; }
    /// <summary>--per-device: the worker whose failure is the job's status, e.g. "worker 1 (rank 3, device 1) exited with status 3".</summary>
    public string? FailedWorker { get; set; }
    /// <summary>The failed command's root cause from torchrun's error file, when there is one.</summary>
    public RootCause? RootCause { get; set; }
}
