namespace TrainLauncher.Launch;

/// <summary>--downloader: who transfers code and logs. Auto: dls-downloader when DLS_USE_DOWNLOADER
/// asks and it is found, else the built-in client for obs:// and s3://.</summary>
internal enum DownloaderChoice { Auto, Tool, Builtin }
