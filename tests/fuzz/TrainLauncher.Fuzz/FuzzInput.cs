using System.Text;

namespace TrainLauncher.Fuzz;

/// <summary>
/// How the targets read their bytes: text fields separated by NUL (no argument or variable can
/// hold one), so a byte-level fuzzer and a hand-written seed file speak the same format.
/// </summary>
public static class FuzzInput
{
    /// <summary>The input as UTF-8 (invalid bytes become U+FFFD), split at NUL.</summary>
    public static string[] Fields(ReadOnlySpan<byte> input) => Encoding.UTF8.GetString(input).Split('\0');

    /// <summary>The fields before the first empty one are arguments; the ones after are NAME=VALUE variables.</summary>
    public static (string[] Args, Dictionary<string, string> Environment) ArgsAndEnvironment(ReadOnlySpan<byte> input)
    {
        var fields = Fields(input);
        int split = Array.IndexOf(fields, "");
        return split < 0 ? (fields, []) : (fields[..split], Environment(fields[(split + 1)..]));
    }

    /// <summary>NAME=VALUE fields; a field without '=' is a variable set to the empty string; the last one of a name wins.</summary>
    public static Dictionary<string, string> Environment(IEnumerable<string> fields)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in fields)
        {
            int eq = field.IndexOf('=');
            environment[eq < 0 ? field : field[..eq]] = eq < 0 ? "" : field[(eq + 1)..];
        }
        return environment;
    }

    /// <summary>Seed files are written in this format by <see cref="Encode"/>.</summary>
    public static byte[] Encode(IEnumerable<string> args, IEnumerable<KeyValuePair<string, string>> environment) =>
        Encoding.UTF8.GetBytes(string.Join('\0', args.Append("").Concat(environment.Select(v => $"{v.Key}={v.Value}"))));
}
