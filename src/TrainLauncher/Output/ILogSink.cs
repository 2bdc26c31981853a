namespace TrainLauncher.Output;

/// <summary>
/// Where the command's bytes go besides stdout: the job log (SPEC 4). A sink writes out of the
/// output pump's <see cref="Ring"/>, never out of a copy of its own, and only the pump's thread
/// calls it. Failure policy: any exception means the log stopped taking output; the pump says
/// so once and goes on with stdout.
/// </summary>
internal interface ILogSink : IDisposable
{
    /// <summary>The recent output, read into by the pump: the sink's backlog lives here.</summary>
    ByteRing Ring { get; }

    /// <summary>The oldest stream offset the sink still needs: the pump never reads so far ahead
    /// that it would overwrite it (a slow log slows the command, it never loses bytes).</summary>
    long KeepFrom { get; }

    /// <summary>Before a read: the sink may take the next bytes of the command's pipe without a
    /// copy (tee(2)). Returns how many bytes it holds ahead of the ring (the pump reads exactly
    /// those next), 0 when none.</summary>
    int TakeAhead(int pipeFd, int maxBytes);

    /// <summary>The pump added <paramref name="count"/> bytes to the ring.</summary>
    void Added(int count);

    /// <summary>The output went quiet: what the sink holds back for a bigger write goes out now.</summary>
    void Flush();

    /// <summary>A fd to poll for POLLOUT while the sink holds bytes its tool has not taken, else -1.</summary>
    int WaitFd { get; }

    /// <summary>How long the pump may sleep before <see cref="Service"/> must run (a stall deadline), or -1.</summary>
    int WaitMs { get; }

    /// <summary>After a poll: move held bytes on, act on a stall.</summary>
    void Service();

    /// <summary>The output has ended: everything goes to the file (waiting a bounded time for a tool).</summary>
    void Complete();
}
