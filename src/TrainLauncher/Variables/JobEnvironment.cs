namespace TrainLauncher.Variables;

/// <summary>
/// The environment the command will get, built step by step from the launcher's own, with a
/// record of every change so `plan` can show it. Secret values live only in memory.
/// </summary>
internal sealed class JobEnvironment
{
    private readonly Dictionary<string, string> _variables;
    private readonly List<(string Name, EnvChange Change)> _changes = [];

    public JobEnvironment(IReadOnlyDictionary<string, string> launcherEnvironment) =>
        _variables = new Dictionary<string, string>(launcherEnvironment, StringComparer.Ordinal);

    public IReadOnlyDictionary<string, string> Variables => _variables;
    public IReadOnlyList<(string Name, EnvChange Change)> Changes => _changes;

    public string? Get(string name) => _variables.GetValueOrDefault(name);

    public void Set(string name, string value)
    {
        _variables[name] = value;
        _changes.Add((name, EnvChange.Set));
    }

    public void SetSecret(string name, string value)
    {
        _variables[name] = value;
        _changes.Add((name, EnvChange.Secret));
    }

    public void Remove(string name)
    {
        if (_variables.Remove(name)) _changes.Add((name, EnvChange.Removed));
    }

    /// <summary>SPEC 3.2: the job dir first on PYTHONPATH, unbuffered Python output.</summary>
    public void PrepareForPython(string jobDir)
    {
        string? existing = Get("PYTHONPATH");
        Set("PYTHONPATH", string.IsNullOrEmpty(existing) ? jobDir : jobDir + ":" + existing);
        Set("PYTHONUNBUFFERED", "1");
    }

    /// <summary>SPEC 3.4.</summary>
    public void ScrubForeignJobs(string? jobId)
    {
        foreach (var name in _variables.Keys.Where(n => EnvScrubber.ShouldRemove(n, jobId)).ToList())
            Remove(name);
    }

    public KeyValuePair<string, string>[] ToArray() => _variables.OrderBy(p => p.Key, StringComparer.Ordinal).ToArray();
}
