namespace TrainLauncher.Code;

/// <summary>The fetch failed; <see cref="Output"/> is why, one line (outside text escaped), for the job log.</summary>
internal sealed class FetchFailure(string output) : Exception("code fetch failed")
{
    public string Output { get; } = output;
}
