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
        string dir = OwnDirectory.Resolve(options.DataDir == "auto" ? "data" : options.DataDir, settings.JobDir, "--data-dir");
        var source = CodeSource.Resolve(settings.DataUrl, useDownloader: false, downloaderTool: null, DownloaderChoice.Builtin, currentDirectory, "DLS_DATA_URL")!;
        return new InputData(source with { TargetName = Path.GetFileName(dir) }, dir);
    }

    public string Describe() => Source switch
    {
        CodeSource.LocalCopy copy => $"copy {copy.Path} -> {Dir}",
        CodeSource.ObjectStore objects => $"built-in client {objects.Url} -> {Dir}",
        _ => $"{Source} -> {Dir}",
    };
}
