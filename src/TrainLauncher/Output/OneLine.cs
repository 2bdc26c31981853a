using System.Globalization;
using System.Text;

namespace TrainLauncher.Output;

/// <summary>
/// Text from outside (names in an archive, object keys, local file names, a server's message,
/// an HTTP request, a tool's output) made safe to put in one launcher line: newlines, NUL and
/// every other control character (C0, DEL, C1, and the Unicode line/paragraph separators)
/// become visible escapes, so such text can neither split a line nor forge one; bidirectional
/// overrides (which reorder what a reader sees) and lone surrogate halves are escaped too.
/// Escape the value where it enters a message, once.
/// </summary>
internal static class OneLine
{
    public static string Escape(string? text)
    {
        if (text is null || !text.Any(c => NeedsEscape(c) || char.IsSurrogate(c)))
            return text ?? "";
        var escaped = new StringBuilder(text.Length + 16);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                escaped.Append(c).Append(text[++i]);
            else if (!NeedsEscape(c) && !char.IsSurrogate(c))
                escaped.Append(c);
            else
                escaped.Append(c switch
                {
                    '\n' => @"\n",
                    '\r' => @"\r",
                    '\t' => @"\t",
                    < '\u0100' => @"\x" + ((int)c).ToString("x2", CultureInfo.InvariantCulture),
                    _ => @"\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                });
        }
        return escaped.ToString();
    }

    private static bool NeedsEscape(char c) =>
        char.IsControl(c)
        || c is '\u2028' or '\u2029'
        || c is '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069');
}
