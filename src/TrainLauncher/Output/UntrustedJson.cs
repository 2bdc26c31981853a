using System.Text.Json;

namespace TrainLauncher.Output;

/// <summary>
/// Reading a JSON document that came from outside (a rank table, torchrun's error file):
/// System.Text.Json parses escapes lazily, so a name or string with a lone surrogate escape
/// (<c>"\ud800"</c>) or bad UTF-8 parses, then throws InvalidOperationException when it is
/// compared or read. Here that is "not there" and "not text" (found by afl-fuzz).
/// </summary>
internal static class UntrustedJson
{
    /// <summary>TryGetProperty that counts a name it cannot decode as absent.</summary>
    public static bool TryGet(JsonElement owner, string name, out JsonElement value)
    {
        value = default;
        try { return owner.ValueKind == JsonValueKind.Object && owner.TryGetProperty(name, out value); }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>A string's text; false when it does not decode.</summary>
    public static bool TryGetText(JsonElement value, out string text)
    {
        try
        {
            text = value.GetString() ?? "";
            return true;
        }
        catch (InvalidOperationException)
        {
            text = "";
            return false;
        }
    }
}
