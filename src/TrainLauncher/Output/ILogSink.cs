namespace TrainLauncher.Output;

/// <summary>Where the command's bytes go besides stdout: the job log (SPEC 4).</summary>
internal interface ILogSink : IAsyncDisposable
{
    /// <summary>Called from the pump thread only, one chunk at a time.</summary>
    void Write(ReadOnlySpan<byte> chunk);

    /// <summary>The output went quiet: bytes held back for a bigger write go to the file now.</summary>
    void Flush();

    /// <summary>Everything written so far is in the file (the pipe tool has finished).</summary>
    Task CompleteAsync();
}
