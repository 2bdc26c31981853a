namespace TrainLauncher.Secrets;

/// <summary>
/// Decrypted values, by variable name. Its only text output is masked: <see cref="Mask"/>
/// replaces every plaintext inside a string, so anything the launcher prints can pass
/// through it first.
/// </summary>
internal sealed class SecretSet
{
    public const string Masked = "******";
    private readonly List<KeyValuePair<string, string>> _values = [];

    public static SecretSet Empty => new();

    public IReadOnlyList<KeyValuePair<string, string>> Values => _values;
    public IEnumerable<string> Names => _values.Select(v => v.Key);

    public void Add(string name, string plaintext) => _values.Add(new(name, plaintext));

    public string Mask(string text)
    {
        // Longest first, so a secret that contains another is masked whole.
        foreach (var value in _values.Select(v => v.Value).Where(v => v.Length > 0).OrderByDescending(v => v.Length))
            text = text.Replace(value, Masked, StringComparison.Ordinal);
        return text;
    }

    public override string ToString() => $"{_values.Count} secret(s): {string.Join(", ", Names)}";
}
