namespace TrainLauncher.Tests.Support;

/// <summary>A file another process still writes (the launcher's captured stdout).</summary>
internal static class SharedFile
{
    /// <summary>What it holds so far; "" before it exists.</summary>
    public static string Read(string path)
    {
        if (!File.Exists(path)) return "";
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return reader.ReadToEnd();
    }
}
