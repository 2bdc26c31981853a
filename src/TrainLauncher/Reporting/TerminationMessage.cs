using System.Text;
using TrainLauncher.Launch;
using TrainLauncher.Secrets;

namespace TrainLauncher.Reporting;

/// <summary>
/// SPEC 11's short reason on exit, for `kubectl describe` and the platform's job page:
/// <code>
/// exit status 1 (phase running): the command ended with exit status 1
/// last output:
/// Traceback (most recent call last):
/// ...
/// </code>
/// At most <see cref="MaxBytes"/> bytes, every secret masked. Masking runs before any cut, on
/// more bytes than are kept, so a cut can never leave the visible half of a secret.
/// </summary>
internal static class TerminationMessage
{
    public const int MaxBytes = 4096;
    private const int MaxHeadBytes = 1024;
    private const int MaxRootCauseBytes = 2048;

    /// <summary>How many output bytes to read back: enough to fill the message after masking.</summary>
    public static int TailBytesToRead(SecretSet secrets) =>
        MaxBytes * 2 + secrets.Values.Select(v => Encoding.UTF8.GetByteCount(v.Value)).DefaultIfEmpty(0).Max();

    public static string Compose(int status, LaunchPhase phase, string reason, ReadOnlySpan<byte> tail, bool tailIsWholeOutput, SecretSet secrets,
        RootCause? rootCause = null)
    {
        string head = Truncate(secrets.Mask(OneLine($"exit status {status} (phase {RunState.Name(phase)}): {reason}")), MaxHeadBytes) + "\n";
        // The root cause right under the status: it is what a reader of `kubectl describe` needs first.
        // Its lines are masked and escaped already.
        if (rootCause is not null)
            head += Truncate(rootCause.Describe().TrimEnd('\n'), MaxRootCauseBytes) + "\n";
        if (tail.IsEmpty) return head;

        var lines = secrets.Mask(Encoding.UTF8.GetString(tail)).Split('\n').ToList();
        if (lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        // Cut at the start: not a whole line. (A single over-long line is cut from its end below.)
        if (!tailIsWholeOutput && lines.Count > 1) lines.RemoveAt(0);

        const string label = "last output:\n";
        int budget = MaxBytes - Encoding.UTF8.GetByteCount(head) - label.Length;
        var kept = new List<string>();
        for (int i = lines.Count - 1; i >= 0 && budget > 0; i--)
        {
            // A progress bar's line is what a terminal would show: the text after the last \r.
            string line = lines[i][(lines[i].TrimEnd('\r').LastIndexOf('\r') + 1)..].TrimEnd('\r') + "\n";
            int size = Encoding.UTF8.GetByteCount(line);
            if (size > budget)
            {
                if (kept.Count == 0) kept.Add(KeepEnd(line, budget));
                break;
            }
            kept.Add(line);
            budget -= size;
        }
        if (kept.Count == 0) return head;
        kept.Reverse();
        return head + label + string.Concat(kept);
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    private static string Truncate(string text, int maxBytes)
    {
        if (Encoding.UTF8.GetByteCount(text) <= maxBytes) return text;
        while (Encoding.UTF8.GetByteCount(text) > maxBytes - 3) text = text[..^Math.Max(1, text.Length / 8)];
        return text + "...";
    }

    /// <summary>The end of one over-long line, cut on a character boundary.</summary>
    private static string KeepEnd(string line, int maxBytes)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        int start = bytes.Length - maxBytes;
        while (start < bytes.Length && (bytes[start] & 0xC0) == 0x80) start++;
        return Encoding.UTF8.GetString(bytes, start, bytes.Length - start);
    }
}
