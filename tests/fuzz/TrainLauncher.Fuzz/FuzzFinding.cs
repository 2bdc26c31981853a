namespace TrainLauncher.Fuzz;

/// <summary>A broken property: afl-fuzz counts it as a crash, a property test fails on it.</summary>
public sealed class FuzzFinding(string message, string? cause = null) : Exception(message)
{
    /// <summary>What broke, without the input's own text: findings with the same cause are one bug.</summary>
    public string Cause { get; } = cause ?? message;

    /// <summary>A message meant for one launcher line: non-empty, no newline, NUL or other control character.</summary>
    public static void RequireOneLine(string what, string message)
    {
        if (message.Length == 0)
            throw new FuzzFinding($"{what}: an empty message");
        int bad = message.AsSpan().IndexOfAny(Controls);
        if (bad >= 0 || message.Contains('\u2028') || message.Contains('\u2029'))
            throw new FuzzFinding($"{what}: a message with a control character at {bad}: {Output.OneLine.Escape(message)}",
                $"{what} not one line: {Template(message)}");
    }

    private static readonly System.Buffers.SearchValues<char> Controls = System.Buffers.SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(c => (char)c), '\u007f', .. Enumerable.Range(0x80, 0x20).Select(c => (char)c)]);

    /// <summary>The message with the values in it blanked ('…' and NAME=…), so one template is one cause.</summary>
    private static string Template(string message)
    {
        string template = System.Text.RegularExpressions.Regex.Replace(message, @"'[^']*'|=[^ ,:]*|[\p{C}]", "…");
        return template.Length > 80 ? template[..80] : template;
    }
}
