namespace TrainLauncher.Code;

/// <summary>The fetch failed; <see cref="Output"/> is what the fetcher said, for the job log.</summary>
internal sealed class FetchFailure(string output) : Exception("code fetch failed")
{
    public string Output { get; } = output;
}
