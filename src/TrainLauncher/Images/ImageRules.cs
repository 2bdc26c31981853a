namespace TrainLauncher.Images;

/// <summary>What the platform protects, by path. Paths are absolute and normalised.</summary>
internal static class ImageRules
{
    /// <summary>Image size limit: 9.5 GB, counted in decimal units as `docker images` shows them.</summary>
    public const long MaxImageBytes = 9_500_000_000;

    public static readonly string[] SystemDirectories = ["/bin", "/sbin", "/usr", "/lib", "/lib64"];

    /// <summary>Files in /etc that decide users, name resolution, library loading and login.</summary>
    public static readonly string[] ProtectedEtcFiles =
    [
        "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/sudoers",
        "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/etc/nsswitch.conf",
        "/etc/ld.so.conf", "/etc/ld.so.preload", "/etc/ld.so.cache",
        "/etc/profile", "/etc/bash.bashrc", "/etc/environment", "/etc/login.defs", "/etc/shells",
    ];

    /// <summary>Directories of /etc protected with everything in them.</summary>
    public static readonly string[] ProtectedEtcDirectories =
        ["/etc/sudoers.d", "/etc/ld.so.conf.d", "/etc/pam.d", "/etc/security", "/etc/ssl"];

    public static bool IsUnder(string path, string directory) =>
        path == directory || IsStrictlyUnder(path, directory);

    public static bool IsStrictlyUnder(string path, string directory) =>
        directory == "/"
            ? path.Length > 1
            : path.Length > directory.Length && path.StartsWith(directory, StringComparison.Ordinal) && path[directory.Length] == '/';

    public static string? SystemDirectoryOf(string path) =>
        SystemDirectories.FirstOrDefault(dir => IsUnder(path, dir));

    public static bool IsProtectedEtc(string path) =>
        ProtectedEtcFiles.Contains(path) || ProtectedEtcDirectories.Any(dir => IsStrictlyUnder(path, dir));

    /// <summary>The platform's tools are the files directly in the home dir: run_train.sh and dls-*.</summary>
    public static bool IsPlatformToolName(string path, string home) =>
        LayerReader.ParentOf(path) == home && Path.GetFileName(path) is var name
        && (name == "run_train.sh" || name.StartsWith("dls-", StringComparison.Ordinal));

    // Batch-service images need these (the batch service starts /home/run.sh with them around).
    public const string BatchScript = "/home/run.sh";

    /// <summary>Names a batch image needs somewhere in a bin directory, with what the report calls them.</summary>
    public static string? BatchToolOf(string path)
    {
        if (path == BatchScript)
            return BatchScript;
        if (!LayerReader.ParentOf(path).EndsWith("/bin", StringComparison.Ordinal))
            return null;
        string name = Path.GetFileName(path);
        if (name == "java")
            return "java (a JRE)";
        if (name == "zip")
            return "zip";
        if (name.StartsWith("python", StringComparison.Ordinal) && name.Skip("python".Length).All(c => char.IsAsciiDigit(c) || c == '.'))
            return "python";
        return null;
    }

    public static readonly string[] BatchNeeds = [BatchScript, "python", "java (a JRE)", "zip"];
}
