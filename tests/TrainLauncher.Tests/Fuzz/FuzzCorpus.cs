using System.Text;
using System.Text.RegularExpressions;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Fuzz;

/// <summary>A target's committed seeds (tests/fuzz/corpus/TARGET) and dictionary words (tests/fuzz/dict/TARGET.dict).</summary>
internal sealed partial class FuzzCorpus
{
    private FuzzCorpus(string target, IReadOnlyList<(string Name, byte[] Bytes)> seeds, IReadOnlyList<byte[]> words)
    {
        Target = target;
        Seeds = seeds;
        Words = words;
    }

    public string Target { get; }
    public IReadOnlyList<(string Name, byte[] Bytes)> Seeds { get; }
    public IReadOnlyList<byte[]> Words { get; }

    public static FuzzCorpus Of(string target)
    {
        string dir = Path.Combine(Repo.Root, "tests/fuzz/corpus", target);
        var seeds = Directory.GetFiles(dir).Order(StringComparer.Ordinal)
            .Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToList();
        string dict = Path.Combine(Repo.Root, "tests/fuzz/dict", target + ".dict");
        var words = File.Exists(dict)
            ? File.ReadLines(dict).Select(l => Word().Match(l)).Where(m => m.Success).Select(m => Unescape(m.Groups[1].Value)).ToList()
            : [];
        return new FuzzCorpus(target, seeds, words);
    }

    /// <summary>afl's dictionary syntax: printable ASCII with \xNN, \\ and \" escapes.</summary>
    private static byte[] Unescape(string text)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] == 'x' && i + 3 < text.Length)
            {
                bytes.Add(Convert.ToByte(text.Substring(i + 2, 2), 16));
                i += 3;
            }
            else if (text[i] == '\\' && i + 1 < text.Length)
            {
                bytes.Add((byte)text[++i]);
            }
            else
            {
                bytes.AddRange(Encoding.ASCII.GetBytes(text[i].ToString()));
            }
        }
        return [.. bytes];
    }

    [GeneratedRegex("^[A-Za-z0-9_]+=\"(.*)\"$")]
    private static partial Regex Word();
}
