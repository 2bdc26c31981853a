using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TrainLauncher.Output;
using TrainLauncher.Secrets;

namespace TrainLauncher.Reporting;

/// <summary>
/// torchrun's error file (<c>TORCHELASTIC_ERROR_FILE</c>): the launcher sets it for the command
/// and, when the command failed, reads the root cause from it. torch's <c>@record</c> writes
/// <c>{"message": {"message": "RuntimeError: boom", "extraInfo": {"py_callstack": "Traceback...",
/// "timestamp": "..."}, "errorCode": N}}</c>; torchrun's agent copies its first failed worker's
/// file there. The file is the command's output and is read defensively: any other content
/// gives one line saying so, and the file itself is left where it is.
/// </summary>
internal static class ElasticErrorFile
{
    public const string Variable = "TORCHELASTIC_ERROR_FILE";
    /// <summary>Enough for a deep traceback; a larger file is not torch's.</summary>
    public const int MaxBytes = 1 << 20;
    public const int MaxFrames = 4;
    private const int MaxLineChars = 400;

    /// <summary>The default path in the job dir, one per node.</summary>
    public static string DefaultPath(string jobDir, int taskIndex) => Path.Combine(jobDir, $"torchelastic-error-{taskIndex}.json");

    /// <summary>A file left by an earlier run in the same job dir must not be reported as this run's cause.</summary>
    public static void RemoveStale(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>
    /// The root cause in <paramref name="path"/> when the file exists and was written after
    /// <paramref name="notBefore"/> (so a user's own stale file is not taken for this run's);
    /// null when there is none. Never throws: the status is the command's, whatever is in the file.
    /// </summary>
    public static RootCause? Read(string path, DateTime notBefore, SecretSet secrets, string source = "torchelastic error file")
    {
        try
        {
            var info = new FileInfo(path);
            // mtime has a coarse granularity on some file systems.
            if (!info.Exists || info.LastWriteTimeUtc < notBefore.AddSeconds(-2)) return null;
            // A regular file only: the command names it, and a FIFO would block the launcher's end forever.
            using var file = new FileStream(Storage.LocalFiles.OpenRegular(path, followLink: true).Handle, FileAccess.Read);
            var buffer = new byte[MaxBytes + 1];
            int length = 0, read;
            while (length < buffer.Length && (read = file.Read(buffer, length, buffer.Length - length)) > 0) length += read;
            if (length > MaxBytes)
                return Unreadable(source, path, $"larger than {MaxBytes >> 20} MiB", secrets);
            return Parse(buffer.AsSpan(0, length), secrets, source, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Storage.LocalFileException)
        {
            return Unreadable(source, path, e.Message, secrets);
        }
    }

    /// <summary>The file's content as a root cause; content torch does not write gives a summary saying so.</summary>
    public static RootCause Parse(ReadOnlySpan<byte> content, SecretSet secrets, string source, string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content.ToArray(), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            return Unreadable(source, path, "not JSON: " + e.Message, secrets);
        }
        using (document)
        {
            var root = document.RootElement;
            if (!UntrustedJson.TryGet(root, "message", out var message))
                return Unreadable(source, path, "no \"message\" in it", secrets);
            // torch's "new message format": a plain string.
            if (message.ValueKind == JsonValueKind.String)
                return new RootCause(source, Line(Text(message), secrets), []);
            if (message.ValueKind != JsonValueKind.Object)
                return Unreadable(source, path, $"\"message\" is a {message.ValueKind.ToString().ToLowerInvariant()}", secrets);

            string summary = UntrustedJson.TryGet(message, "message", out var text) && text.ValueKind == JsonValueKind.String
                ? Line(Text(text), secrets)
                : "(no message)";
            if (UntrustedJson.TryGet(message, "errorCode", out var code) && code.ValueKind == JsonValueKind.Number && code.TryGetInt32(out var exitCode) && exitCode != 0)
                summary += $" (exit code {exitCode})";
            var frames = UntrustedJson.TryGet(message, "extraInfo", out var extra)
                && UntrustedJson.TryGet(extra, "py_callstack", out var stack) && stack.ValueKind == JsonValueKind.String
                ? InnermostFrames(Text(stack), secrets)
                : [];
            return new RootCause(source, summary, frames);
        }
    }

    /// <summary>
    /// The frames nearest the raise, outermost first: Python prints the most recent call last,
    /// and the last frames are where the failure is (the first ones are torch's own wrapper).
    /// </summary>
    private static IReadOnlyList<string> InnermostFrames(string callstack, SecretSet secrets)
    {
        var frames = new List<string>();
        foreach (var line in callstack.Split('\n'))
        {
            var trimmed = line.Trim();
            if (trimmed.StartsWith("File \"", StringComparison.Ordinal))
                frames.Add(trimmed);
        }
        return frames.Skip(Math.Max(0, frames.Count - MaxFrames)).Select(f => Line(f, secrets)).ToList();
    }

    /// <summary>A JSON string's text; one that does not decode (a lone surrogate escape, bad UTF-8)
    /// as its raw bytes with U+FFFD for what is not UTF-8.</summary>
    private static string Text(JsonElement value) =>
        UntrustedJson.TryGetText(value, out var text) ? text : Encoding.UTF8.GetString(JsonMarshal.GetRawUtf8Value(value));

    private static RootCause Unreadable(string source, string path, string why, SecretSet secrets) =>
        new(source, Line($"{path} could not be read as torch's error file ({why}); it is left in place", secrets), []);

    /// <summary>Masked before it is escaped (a secret's own text is what the mask looks for), then cut.</summary>
    private static string Line(string? text, SecretSet secrets)
    {
        string line = OneLine.Escape(secrets.Mask(text ?? "").Trim());
        if (line.Length <= MaxLineChars) return line.Length == 0 ? "(empty message)" : line;
        int cut = MaxLineChars;
        if (char.IsLowSurrogate(line[cut])) cut--;
        return line[..cut] + "...";
    }
}
