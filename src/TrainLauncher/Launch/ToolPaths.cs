namespace TrainLauncher.Launch;

/// <summary>Overrides for the platform tools' names or paths (SPEC 3 tools).</summary>
internal sealed record ToolPaths
{
    public string DnsFixer { get; init; } = "dls-dns-fixer";
    public string Decryptor { get; init; } = "dls-decryptor";
    public string KeyClient { get; init; } = "dls-key-client";
    public string Pipe { get; init; } = "dls-pipe";
    public string Downloader { get; init; } = "dls-downloader";
}
