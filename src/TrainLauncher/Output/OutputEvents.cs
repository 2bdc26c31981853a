using Microsoft.Extensions.Logging;

namespace TrainLauncher.Output;

/// <summary>The job log's failure policy at work (ids 500–599): stdout goes on, the log is repaired or written directly.</summary>
internal static partial class OutputEvents
{
    [LoggerMessage(501, LogLevel.Warning, "the job log stopped taking output: {Reason}")]
    public static partial void LogStopped(this ILogger log, string reason);

    [LoggerMessage(502, LogLevel.Warning, "dls-pipe could not start ({Reason}); writing {Path} directly")]
    public static partial void PipeToolNotStarted(this ILogger log, string reason, string path);

    [LoggerMessage(503, LogLevel.Warning, "dls-pipe stopped taking the log ({Reason}); the launcher writes {Path} itself from here on")]
    public static partial void PipeToolStopped(this ILogger log, string reason, string path);

    [LoggerMessage(504, LogLevel.Warning, "dls-pipe exited with status {Status}; checking {Path} for missing bytes")]
    public static partial void PipeToolExited(this ILogger log, int status, string path);

    [LoggerMessage(505, LogLevel.Warning, "{Bytes} bytes of output were lost from {Path} when dls-pipe failed")]
    public static partial void LogBytesLost(this ILogger log, long bytes, string path);

    [LoggerMessage(506, LogLevel.Warning, "the output relay stopped: {Reason}")]
    public static partial void RelayStopped(this ILogger log, string reason);

    [LoggerMessage(507, LogLevel.Warning, "dls-pipe took nothing for {Seconds:0.#} s; the launcher ends it and writes {Path} itself from here on")]
    public static partial void PipeToolHung(this ILogger log, double seconds, string path);

    [LoggerMessage(520, LogLevel.Warning, "the log of rank {Rank}, {Path}, gets no more output ({Reason}); stdout and the job log still get all of it")]
    public static partial void WorkerLogStopped(this ILogger log, int rank, string path, string reason);

    [LoggerMessage(521, LogLevel.Warning, "the output relay of rank {Rank} stopped: {Reason}")]
    public static partial void WorkerRelayStopped(this ILogger log, int rank, string reason);

    [LoggerMessage(522, LogLevel.Warning, "the merged output of the workers stopped being read ({Reason}); the worker logs still get every byte")]
    public static partial void MergedOutputStopped(this ILogger log, string reason);
}
