namespace TrainLauncher.Data;

/// <summary>Which requirements file is installed before the command (`--requirements`), decided up front.</summary>
internal abstract record RequirementsSource
{
    /// <summary>ModelArts' name first, then the usual one (SageMaker's toolkit installs requirements.txt).</summary>
    public static readonly string[] AutoNames = ["pip-requirements.txt", "requirements.txt"];

    /// <summary>`auto` with fetched code: the first of <see cref="AutoNames"/> in <paramref name="CodeDir"/> after the fetch.</summary>
    public sealed record FromCodeDir(string CodeDir) : RequirementsSource;

    /// <summary>`--requirements FILE`: this file (full path); a missing one is a 125.</summary>
    public sealed record File(string Path) : RequirementsSource;

    /// <summary>null: nothing to install (`off`, or `auto` without fetched code).</summary>
    public static RequirementsSource? Resolve(string choice, string jobDir, string? codeDir) => choice switch
    {
        "off" => null,
        "auto" => codeDir is null ? null : new FromCodeDir(codeDir),
        _ => new File(System.IO.Path.GetFullPath(choice, jobDir)),
    };

    /// <summary>The file to install once the code is there; null when auto found none.</summary>
    public string? Locate() => this switch
    {
        FromCodeDir auto => AutoNames.Select(n => System.IO.Path.Combine(auto.CodeDir, n)).FirstOrDefault(System.IO.File.Exists),
        File file => file.Path,
        _ => null,
    };

    public string Describe() => this switch
    {
        FromCodeDir auto => $"python3 -m pip install --user -r {string.Join(" or ", AutoNames)} in {auto.CodeDir}, if there after the fetch",
        File file => $"python3 -m pip install --user -r {file.Path}",
        _ => ToString(),
    };
}
