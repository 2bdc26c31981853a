using TrainLauncher.Code;
using TrainLauncher.Launch;

namespace TrainLauncher.Data;

/// <summary>DLS_DATA_URL and where `--data-dir` puts it, decided up front. Local paths are copied,
/// obs:// and s3:// go through the built-in client (never dls-downloader: it is the code's tool).</summary>
internal sealed record InputData(CodeSource Source, string Dir)
{
    /// <summary>null when --data-dir is off or DLS_DATA_URL is empty.</summary>
    public static InputData? Resolve(LaunchOptions options, JobSettings settings, string currentDirectory)
    {
        if (options.DataDir is null || settings.DataUrl is null) return null;
        string dir = options.DataDir == "auto"
            ? Path.Combine(settings.JobDir, "data")
            : Path.GetFullPath(options.DataDir, settings.JobDir);
        if (Path.GetFileName(dir.TrimEnd('/')) is not { Length: > 0 } name || dir.TrimEnd('/') == settings.JobDir)
            throw LaunchFailure.Setup($"--data-dir must name a directory of its own, not the job dir or /, got '{Output.OneLine.Escape(options.DataDir)}'");
        var source = CodeSource.Resolve(settings.DataUrl, useDownloader: false, downloaderTool: null, DownloaderChoice.Builtin, currentDirectory, "DLS_DATA_URL")!;
        return new InputData(source with { TargetName = name }, dir.TrimEnd('/'));
    }

    public string Describe() => Source switch
    {
        CodeSource.LocalCopy copy => $"copy {copy.Path} -> {Dir}",
        CodeSource.ObjectStore objects => $"built-in client {objects.Url} -> {Dir}",
        _ => $"{Source} -> {Dir}",
    };
}
