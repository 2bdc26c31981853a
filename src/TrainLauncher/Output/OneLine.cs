using System.Globalization;
using System.Text;

namespace TrainLauncher.Output;

/// <summary>
/// Text from outside (names in an archive, object keys, a server's message, an HTTP request)
/// made safe to put in one launcher line: newlines, NUL and every other control character
/// (C0, DEL, C1, and the Unicode line/paragraph separators) become visible escapes, so such
/// text can neither split a line nor forge one.
/// </summary>
internal static class OneLine
{
    public static string Escape(string? text)
    {
        if (text is null || !text.Any(NeedsEscape))
            return text ?? "";
        var escaped = new StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            if (!NeedsEscape(c))
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

    private static bool NeedsEscape(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';
}
