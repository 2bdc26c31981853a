namespace TrainLauncher.Tests.Cluster;

/// <summary>Test rows write environments as "A=1 B=2" (values without spaces; "A=" is empty).</summary>
internal static class EnvText
{
    public static Dictionary<string, string> Parse(string text) =>
        text.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
}
