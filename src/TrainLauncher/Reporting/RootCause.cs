namespace TrainLauncher.Reporting;

/// <summary>
/// Why the command failed, from torchrun's error file: one summary line ("RuntimeError: boom",
/// or why the file could not be read) and the frames nearest the raise. Every line is masked
/// and escaped already: it goes into the termination message and the summary as it is.
/// </summary>
/// <param name="Source">Where it came from, e.g. "torchelastic error file" or "worker 3's torchelastic error file".</param>
internal sealed record RootCause(string Source, string Summary, IReadOnlyList<string> Frames)
{
    /// <summary>The termination message's lines: the summary, then one indented line per frame.</summary>
    public string Describe() =>
        $"root cause ({Source}): {Summary}\n" + string.Concat(Frames.Select(f => $"  {f}\n"));
}
