using TrainLauncher.Launch;
using TrainLauncher.Output;
using TrainLauncher.Storage;

namespace TrainLauncher.Code;

/// <summary>Where the code directory comes from and who fetches it (SPEC 6), decided up front.</summary>
internal abstract record CodeSource
{
    /// <summary>The directory (or file) name the code gets inside the job dir.</summary>
    public required string TargetName { get; init; }

    public sealed record LocalCopy(string Path) : CodeSource;
    public sealed record Downloader(string Tool, string Url) : CodeSource;
    public sealed record ObjectStore(ObjectUrl Url) : CodeSource;

    /// <summary>null when DLS_APP_URL is empty: nothing to fetch.</summary>
    /// <param name="variable">the variable the URL came from, for the error lines (DLS_DATA_URL uses this too).</param>
    public static CodeSource? Resolve(string? appUrl, bool useDownloader, string? downloaderTool, DownloaderChoice choice, string currentDirectory,
        string variable = "DLS_APP_URL")
    {
        if (appUrl is null) return null;
        string? scheme = SchemeOf(appUrl);
        string? localPath = scheme switch
        {
            null => Path.GetFullPath(appUrl, currentDirectory),
            "file" => FilePath(appUrl, variable),
            "obs" or "s3" => null,
            _ => throw LaunchFailure.Setup($"{variable} has an unknown scheme '{OneLine.Escape(scheme)}://': use a local path, file://, obs:// or s3://"),
        };
        ObjectUrl? objectUrl = localPath is null ? ParseObjectUrl(appUrl, variable) : null;
        string name = objectUrl?.LastSegment ?? TargetNameOf(localPath!, variable);

        bool useTool = choice switch
        {
            DownloaderChoice.Tool => downloaderTool is not null
                ? true
                : throw LaunchFailure.Setup("--downloader tool, but dls-downloader was not found: install it, point --dls-downloader at it, or use --downloader builtin"),
            DownloaderChoice.Builtin => false,
            _ => useDownloader && downloaderTool is not null,
        };
        if (useTool) return new Downloader(downloaderTool!, appUrl) { TargetName = name };
        return objectUrl is not null
            ? new ObjectStore(objectUrl) { TargetName = name }
            : new LocalCopy(localPath!) { TargetName = name };
    }

    private static ObjectUrl ParseObjectUrl(string url, string variable)
    {
        try { return ObjectUrl.Parse(url); }
        catch (ObjectStoreException e) { throw LaunchFailure.Setup($"{variable}: {e.Message}"); }
    }

    private static string? SchemeOf(string url)
    {
        int at = url.IndexOf("://", StringComparison.Ordinal);
        return at > 0 && url[..at].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.')
            ? url[..at].ToLowerInvariant()
            : null;
    }

    private static string FilePath(string url, string variable)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !(uri.Host is "" or "localhost"))
            throw LaunchFailure.Setup($"{variable} '{OneLine.Escape(url)}' is not a local file:// URL: use file:///absolute/path");
        return uri.LocalPath;
    }

    private static string TargetNameOf(string pathOrUrl, string variable)
    {
        string trimmed = pathOrUrl.TrimEnd('/');
        string name = trimmed[(trimmed.LastIndexOf('/') + 1)..];
        if (name.Length == 0 || name is "." or ".." || trimmed.EndsWith(":", StringComparison.Ordinal))
            throw LaunchFailure.Setup($"{variable} '{OneLine.Escape(pathOrUrl)}' names no directory to fetch: give the code directory, e.g. obs://bucket/jobs/app/");
        return name;
    }
}
