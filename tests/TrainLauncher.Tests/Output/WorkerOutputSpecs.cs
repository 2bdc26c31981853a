using System.Diagnostics;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using CsCheck;
using TrainLauncher.Interop;
using TrainLauncher.Output;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Output;

/// <summary>Issue 14: the output of per-device workers merged into the one pipe the output pump
/// reads — on real pipes, written by worker threads with write(2) or by real processes. Workers
/// write tagged record lines (a header with their rank, sequence number and length, then a
/// pattern that depends on all three), so the merged stream can be taken apart again: a record
/// split by another worker's bytes has the wrong length or pattern.</summary>
public sealed partial class WorkerOutputSpecs
{
    private const int MiB = 1 << 20;
    private const int F_GETPIPE_SZ = 1032;
    private const int F_GETFD = 1;
    private const int F_DUPFD_CLOEXEC = 1030;
    private const nuint FIONREAD = 0x541B;
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private readonly List<string> _warnings = [];
    private readonly ListLogger _log;

    public WorkerOutputSpecs() => _log = new ListLogger(_warnings);

    /// <summary>This node's workers are ranks 8.. (node 2 of 4-worker nodes): prefixes use the global rank.</summary>
    private static int GlobalRank(int localRank) => 8 + localRank;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_record_line_of_four_workers_arrives_whole_and_each_workers_stream_and_log_are_byte_exact(bool prefix)
    {
        using var dir = new TempDir();
        const int workers = 4;
        using var output = new WorkerOutput(workers, prefix, _log);
        var reader = new MergedReader(output.MergedReadFd);
        for (int w = 0; w < workers; w++)
            File.WriteAllText(dir[$"worker-{w}.log"], "what an earlier attempt left in the file\n");
        var (written, writers) = StartWorkers(output, workers, 4 * MiB, seed: 0, w => dir[$"worker-{w}.log"]);

        await Task.WhenAll(writers).WaitAsync(Patience);
        await output.Completion.WaitAsync(Patience);
        var streams = Deinterleave(await reader.Done.WaitAsync(Patience), prefix);
        for (int w = 0; w < workers; w++)
        {
            string expected = Sha(written[w]);
            Assert.Equal(expected, Sha([streams[GlobalRank(w)].ToArray()]));
            Assert.Equal(expected, Sha([File.ReadAllBytes(dir[$"worker-{w}.log"])]));
            Assert.Equal(written[w].Sum(b => (long)b.Length), output.BytesOf(w));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                File.GetUnixFileMode(dir[$"worker-{w}.log"]));
        }
        Assert.Empty(_warnings);
    }

    [Fact]
    public async Task With_prefix_each_line_gets_its_global_rank_once_even_when_split_across_writes_and_a_final_partial_line_gets_nothing_added()
    {
        using var output = new WorkerOutput(1, prefix: true, _log);
        var reader = new MergedReader(output.MergedReadFd);
        var (read, write) = Pipe();
        output.Relay(0, 7, read, null);

        // Each piece reaches the merged pipe before the next is written: the lines really are
        // split across the worker's writes and the relay's reads.
        (string Piece, string MergedSoFar)[] steps =
        [
            ("hel", "[rank 7] hel"),
            ("lo\nwor", "[rank 7] hello\n[rank 7] wor"),
            ("ld\n\nsecond", "[rank 7] hello\n[rank 7] world\n[rank 7] \n[rank 7] second"),
            (" half\nlast partial", "[rank 7] hello\n[rank 7] world\n[rank 7] \n[rank 7] second half\n[rank 7] last partial"),
        ];
        foreach (var (piece, mergedSoFar) in steps)
        {
            Assert.Equal(0, FdWriter.WriteAll(write, Encoding.ASCII.GetBytes(piece)));
            await Until(() => reader.Text == mergedSoFar || reader.Text.Length > mergedSoFar.Length);
            Assert.Equal(mergedSoFar, reader.Text);
        }
        Native.close(write);

        await output.Completion.WaitAsync(Patience);
        Assert.Equal(steps[^1].MergedSoFar, Encoding.ASCII.GetString(await reader.Done.WaitAsync(Patience)));
        Assert.Equal(steps.Sum(s => s.Piece.Length), output.BytesOf(0));
    }

    [Fact]
    public async Task A_line_printed_a_piece_at_a_time_reaches_the_merged_pipe_while_it_is_still_being_printed()
    {
        using var output = new WorkerOutput(1, prefix: false, _log);
        var reader = new MergedReader(output.MergedReadFd);
        var (read, write) = Pipe();
        output.Relay(0, 0, read, null);
        // The next dot as soon as the relay has read the last one, far sooner than the relay
        // waits for the rest of a line, for as long as the test is patient: held until its
        // newline, nothing would arrive in time.
        using var printed = new CancellationTokenSource();
        var dots = Task.Factory.StartNew(() =>
        {
            var clock = Stopwatch.StartNew();
            for (int count = 1; !printed.IsCancellationRequested && clock.Elapsed < Patience; count++)
            {
                FdWriter.WriteAll(write, "."u8);
                while (output.BytesOf(0) < count && !printed.IsCancellationRequested) Thread.Yield();
            }
            FdWriter.WriteAll(write, "\n"u8);
            Native.close(write);
        }, TaskCreationOptions.LongRunning);

        await Until(() => reader.Text.Length > 0);
        Assert.False(dots.IsCompleted);
        printed.Cancel();
        await dots.WaitAsync(Patience);
        await output.Completion.WaitAsync(Patience);
        Assert.Matches(@"^\.+\n$", Encoding.ASCII.GetString(await reader.Done.WaitAsync(Patience)));
    }

    [Fact]
    public async Task Drain_ends_the_relay_of_a_worker_whose_leftover_background_process_still_holds_its_pipe()
    {
        using var output = new WorkerOutput(1, prefix: false, _log);
        var reader = new MergedReader(output.MergedReadFd);
        using var worker = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "sleep 600 & echo leftover $!"]) { RedirectStandardOutput = true })!;
        output.Relay(0, 0, TakeOutput(worker), null);
        await worker.WaitForExitAsync().WaitAsync(Patience);
        await Until(() => reader.Text.EndsWith('\n'));
        int leftover = int.Parse(reader.Text.Split(' ')[1]);
        try
        {
            // The worker has exited, but the leftover still holds the pipe: no end of data.
            Assert.False(output.Completion.IsCompleted);
            output.Drain();
            await output.Completion.WaitAsync(Patience);
            Assert.Equal($"leftover {leftover}\n", Encoding.ASCII.GetString(await reader.Done.WaitAsync(Patience)));
        }
        finally
        {
            Native.kill(leftover, Native.SIGKILL);
        }
    }

    [Fact]
    public async Task After_Drain_a_worker_that_was_never_relayed_is_not_waited_for()
    {
        using var output = new WorkerOutput(2, prefix: false, _log);
        var reader = new MergedReader(output.MergedReadFd);
        var (read, write) = Pipe();
        output.Relay(0, 0, read, null);
        await Worker(write, [Encoding.ASCII.GetBytes("only worker 0 started\n")]).WaitAsync(Patience);
        await Until(() => reader.Text.Length > 0);

        Assert.False(output.Completion.IsCompleted); // worker 1 may still be relayed
        output.Drain();
        await output.Completion.WaitAsync(Patience);
        Assert.Equal("only worker 0 started\n", Encoding.ASCII.GetString(await reader.Done.WaitAsync(Patience)));
    }

    [Fact]
    public async Task A_worker_pipe_that_cannot_be_read_is_one_warning_and_ends_only_that_relay()
    {
        using var output = new WorkerOutput(2, prefix: false, _log);
        var reader = new MergedReader(output.MergedReadFd);
        output.Relay(0, 0, Native.open("/", Native.O_RDONLY | Native.O_CLOEXEC, 0), null); // read(2): EISDIR
        var (read, write) = Pipe();
        output.Relay(1, 1, read, null);
        await Until(() => _warnings.Count > 0);
        await Worker(write, [Encoding.ASCII.GetBytes("worker 1 goes on\n")]).WaitAsync(Patience);

        await output.Completion.WaitAsync(Patience);
        Assert.Equal("worker 1 goes on\n", Encoding.ASCII.GetString(await reader.Done.WaitAsync(Patience)));
        Assert.Equal("the output relay of rank 0 stopped: cannot read the worker's output: Is a directory", Assert.Single(_warnings));
    }

    [Fact]
    public async Task A_merged_pipe_reader_slower_than_the_workers_holds_them_back_and_loses_no_byte()
    {
        using var dir = new TempDir();
        const int workers = 3;
        using var output = new WorkerOutput(workers, prefix: true, _log);
        var (written, writers) = StartWorkers(output, workers, 4 * MiB, seed: 100, w => dir[$"worker-{w}.log"]);

        // Nobody reads yet: the merged pipe fills up (pages are not packed full, hence half),
        // and the workers cannot have written all they have: 12 MiB against the merged pipe,
        // their own pipes and the relays' buffers, under 5 MiB. A relay that dropped bytes
        // when the pipe is full would let them finish.
        int mergedSize = Native.fcntl(output.MergedReadFd, F_GETPIPE_SZ, 0);
        await Until(() => Queued(output.MergedReadFd) >= mergedSize / 2);
        Assert.Contains(writers, w => !w.IsCompleted);

        var reader = new MergedReader(output.MergedReadFd, readSize: 4096, pauseEvery: 8);
        await Task.WhenAll(writers).WaitAsync(Patience);
        await output.Completion.WaitAsync(Patience);
        var streams = Deinterleave(await reader.Done.WaitAsync(Patience), prefix: true);
        for (int w = 0; w < workers; w++)
        {
            Assert.Equal(Sha(written[w]), Sha([streams[GlobalRank(w)].ToArray()]));
            Assert.Equal(Sha(written[w]), Sha([File.ReadAllBytes(dir[$"worker-{w}.log"])]));
        }
        Assert.Empty(_warnings);
    }

    public static TheoryData<string, string> BadLogs => new()
    {
        { "missing/worker-0.log", "cannot create it: No such file or directory" },
        { "a-file/worker-0.log", "cannot create it: Not a directory" },
        { "/dev/full", "cannot write it: No space left on device" },
    };

    [Theory]
    [MemberData(nameof(BadLogs))]
    public async Task A_worker_log_that_fails_is_one_warning_naming_it_and_the_merged_stream_and_other_logs_stay_complete(string badLog, string reason)
    {
        using var dir = new TempDir();
        dir.Write("a-file", "a regular file, not a directory\n");
        string badPath = Path.IsPathRooted(badLog) ? badLog : dir[badLog];
        using var output = new WorkerOutput(2, prefix: false, _log);
        var reader = new MergedReader(output.MergedReadFd);
        var (written, writers) = StartWorkers(output, 2, 2 * MiB, seed: 7, w => w == 0 ? badPath : dir["worker-1.log"]);

        await Task.WhenAll(writers).WaitAsync(Patience);
        await output.Completion.WaitAsync(Patience);
        var streams = Deinterleave(await reader.Done.WaitAsync(Patience), prefix: false);
        Assert.Equal(Sha(written[0]), Sha([streams[GlobalRank(0)].ToArray()]));
        Assert.Equal(Sha(written[1]), Sha([streams[GlobalRank(1)].ToArray()]));
        Assert.Equal(Sha(written[1]), Sha([File.ReadAllBytes(dir["worker-1.log"])]));
        string warning = Assert.Single(_warnings);
        Assert.Equal($"the log of rank {GlobalRank(0)}, {badPath}, gets no more output ({reason}); stdout and the job log still get all of it", warning);
    }

    [Fact]
    public async Task When_nobody_reads_the_merged_pipe_any_more_it_is_one_warning_and_the_worker_logs_still_get_every_byte()
    {
        using var dir = new TempDir();
        using var output = new WorkerOutput(2, prefix: true, _log);
        Native.close(output.MergedReadFd); // the pump has gone
        var (written, writers) = StartWorkers(output, 2, 2 * MiB, seed: 9, w => dir[$"worker-{w}.log"]);

        await Task.WhenAll(writers).WaitAsync(Patience);
        await output.Completion.WaitAsync(Patience);
        for (int w = 0; w < 2; w++)
            Assert.Equal(Sha(written[w]), Sha([File.ReadAllBytes(dir[$"worker-{w}.log"])]));
        Assert.StartsWith("the merged output of the workers stopped being read (Broken pipe)", Assert.Single(_warnings));
    }

    [Fact]
    public async Task The_merged_pipe_is_1_MiB_and_no_command_started_beside_it_inherits_either_end()
    {
        using var output = new WorkerOutput(1, prefix: false, _log);
        try
        {
            Assert.Equal(MiB, Native.fcntl(output.MergedReadFd, F_GETPIPE_SZ, 0));
            Assert.Equal(Native.FD_CLOEXEC, Native.fcntl(output.MergedReadFd, F_GETFD, 0) & Native.FD_CLOEXEC);
            // Both ends of a pipe share its inode: a child holding either would list it.
            string pipe = new FileInfo($"/proc/self/fd/{output.MergedReadFd}").LinkTarget!;
            Assert.StartsWith("pipe:[", pipe);
            using var child = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "ls -l /proc/$$/fd"]) { RedirectStandardOutput = true })!;
            string fds = await child.StandardOutput.ReadToEndAsync().WaitAsync(Patience);
            await child.WaitForExitAsync().WaitAsync(Patience);
            Assert.Contains("/proc/", fds + "/proc/"); // ls ran
            Assert.DoesNotContain(pipe, fds);
        }
        finally
        {
            Native.close(output.MergedReadFd);
        }
    }

    [Fact]
    public void Prefixing_in_any_chunks_and_output_sizes_equals_prefixing_the_whole_stream_at_once()
    {
        var text = Gen.Int[0, 3].Select(i => i == 0 ? (byte)'\n' : (byte)('a' + i)).Array[0, 600];
        var cuts = Gen.Int[1, 80].Array[1, 12];
        var rooms = Gen.Int[0, 60].Array[1, 12];
        Gen.Select(text, cuts, rooms).Sample((bytes, chunkSizes, extraRoom) =>
        {
            var prefixer = new LinePrefixer(12);
            var produced = new MemoryStream();
            int at = 0, call = 0;
            for (int c = 0; at < bytes.Length; c++)
            {
                var chunk = bytes.AsSpan(at, Math.Min(chunkSizes[c % chunkSizes.Length], bytes.Length - at));
                at += chunk.Length;
                while (!chunk.IsEmpty)
                {
                    var room = new byte[prefixer.MinimumOutput + extraRoom[call++ % extraRoom.Length]];
                    int n = prefixer.Copy(chunk, room, out int consumed);
                    Assert.True(consumed > 0, "no progress");
                    produced.Write(room, 0, n);
                    chunk = chunk[consumed..];
                }
            }
            Assert.Equal(Encoding.ASCII.GetString(PrefixedAtOnce(bytes, "[rank 12] ")), Encoding.ASCII.GetString(produced.ToArray()));
        }, iter: 5000);
    }

    /// <summary>The reference: the prefix before every byte that starts a line.</summary>
    private static byte[] PrefixedAtOnce(byte[] bytes, string prefix)
    {
        var result = new MemoryStream();
        for (int i = 0; i < bytes.Length; i++)
        {
            if (i == 0 || bytes[i - 1] == '\n') result.Write(Encoding.ASCII.GetBytes(prefix));
            result.WriteByte(bytes[i]);
        }
        return result.ToArray();
    }

    /// <summary>Workers 0..<paramref name="workers"/>-1 (ranks <see cref="GlobalRank"/>), each on a pipe of its
    /// own relayed by <paramref name="output"/>, writing record lines of about <paramref name="bytesEach"/>.</summary>
    private static (List<byte[]>[] Written, Task[] Writers) StartWorkers(WorkerOutput output, int workers, int bytesEach, int seed, Func<int, string?> logPath)
    {
        var written = new List<byte[]>[workers];
        var writers = new Task[workers];
        for (int w = 0; w < workers; w++)
        {
            written[w] = Records(GlobalRank(w), bytesEach, seed + w);
            var (read, write) = Pipe();
            output.Relay(w, GlobalRank(w), read, logPath(w));
            writers[w] = Worker(write, written[w]);
        }
        return (written, writers);
    }

    /// <summary>Record lines of about <paramref name="total"/> bytes in all, one write(2) each:
    /// short lines (many per read) and lines of 5–60 KiB (far above PIPE_BUF, so the pipe does
    /// not keep them whole; the relay must).</summary>
    private static List<byte[]> Records(int rank, int total, int seed)
    {
        var random = new Random(seed);
        var records = new List<byte[]>();
        for (int seq = 0, sum = 0; sum < total; seq++)
        {
            int length = random.Next(2) == 0 ? random.Next(32, 200) : random.Next(5 << 10, 60 << 10);
            var record = new byte[length];
            int header = Encoding.ASCII.GetBytes($"W{rank:D3} S{seq:D6} L{length:D6} ", record);
            for (int i = header; i < length - 1; i++) record[i] = Pattern(rank, seq, i);
            record[^1] = (byte)'\n';
            records.Add(record);
            sum += length;
        }
        return records;
    }

    private static byte Pattern(int rank, int seq, int i) => (byte)('a' + (rank * 31 + seq * 7 + i) % 26);

    /// <summary>Takes the merged stream apart into each rank's lines, asserting that every line is
    /// one whole record (its length and pattern intact), with the right prefix, in order.</summary>
    private static Dictionary<int, MemoryStream> Deinterleave(byte[] merged, bool prefix)
    {
        var streams = new Dictionary<int, MemoryStream>();
        var nextSeq = new Dictionary<int, int>();
        for (int start = 0; start < merged.Length;)
        {
            int end = Array.IndexOf(merged, (byte)'\n', start);
            Assert.True(end >= 0, $"the merged stream ends mid-line at byte {start}");
            var line = merged.AsSpan(start, end + 1 - start);
            start = end + 1;
            int? prefixRank = null;
            if (prefix)
            {
                Assert.True(line.StartsWith("[rank "u8), $"a line without prefix at byte {start - line.Length}");
                int close = line.IndexOf("] "u8);
                prefixRank = int.Parse(Encoding.ASCII.GetString(line[6..close]));
                line = line[(close + 2)..];
            }
            string header = Encoding.ASCII.GetString(line[..Math.Min(21, line.Length)]);
            Assert.Matches(@"^W\d{3} S\d{6} L\d{6} $", header);
            int rank = int.Parse(header[1..4]), seq = int.Parse(header[6..12]), length = int.Parse(header[14..20]);
            if (prefixRank is not null) Assert.Equal(rank, prefixRank);
            Assert.Equal(nextSeq.GetValueOrDefault(rank), seq);
            nextSeq[rank] = seq + 1;
            Assert.True(length == line.Length, $"record {seq} of rank {rank}: {line.Length} bytes, not {length}: split or joined");
            for (int i = 21; i < length - 1; i++)
                Assert.True(line[i] == Pattern(rank, seq, i), $"record {seq} of rank {rank} has foreign bytes at {i}");
            if (!streams.TryGetValue(rank, out var stream)) streams[rank] = stream = new MemoryStream();
            stream.Write(line);
        }
        return streams;
    }

    private static string Sha(IEnumerable<byte[]> parts)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var part in parts) sha.AppendData(part);
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    /// <summary>A worker's pipe as CommandSpawner makes it: close-on-exec, 1 MiB.</summary>
    private static unsafe (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        Assert.Equal(0, Native.pipe2(fds, Native.O_CLOEXEC));
        Native.fcntl(fds[1], Native.F_SETPIPE_SZ, MiB);
        return (fds[0], fds[1]);
    }

    /// <summary>A worker writing each buffer with write(2) from a thread of its own, then closing its end.</summary>
    private static Task Worker(int fd, IReadOnlyList<byte[]> writes) => Task.Factory.StartNew(() =>
    {
        try
        {
            foreach (var write in writes) Assert.Equal(0, FdWriter.WriteAll(fd, write));
        }
        finally
        {
            Native.close(fd);
        }
    }, TaskCreationOptions.LongRunning);

    /// <summary>The read end of a started process's stdout pipe, as a descriptor of our own.</summary>
    private static int TakeOutput(Process process)
    {
        var pipe = (PipeStream)process.StandardOutput.BaseStream;
        int fd = Native.fcntl((int)pipe.SafePipeHandle.DangerousGetHandle(), F_DUPFD_CLOEXEC, 3);
        Assert.True(fd >= 0);
        process.StandardOutput.Dispose();
        return fd;
    }

    /// <summary>Bytes waiting in a pipe.</summary>
    private static unsafe int Queued(int fd)
    {
        int count;
        Assert.Equal(0, ioctl(fd, FIONREAD, &count));
        return count;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int ioctl(int fd, nuint request, int* value);

    private static async Task Until(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Patience, "the awaited condition never came");
            await Task.Delay(10);
        }
    }

    /// <summary>What OutputPump is to the merged pipe: reads it to end of data, then closes it.</summary>
    private sealed class MergedReader
    {
        private readonly MemoryStream _all = new();

        /// <param name="pauseEvery">a slow reader: a 1 ms pause after this many reads (0: none)</param>
        public MergedReader(int fd, int readSize = 64 << 10, int pauseEvery = 0) =>
            Done = Task.Factory.StartNew(() => Run(fd, readSize, pauseEvery), TaskCreationOptions.LongRunning);

        public Task<byte[]> Done { get; }

        public string Text
        {
            get { lock (_all) return Encoding.ASCII.GetString(_all.GetBuffer(), 0, (int)_all.Length); }
        }

        private unsafe byte[] Run(int fd, int readSize, int pauseEvery)
        {
            var buffer = new byte[readSize];
            try
            {
                for (long reads = 1; ; reads++)
                {
                    nint n;
                    fixed (byte* p = buffer) n = Native.read(fd, p, buffer.Length);
                    if (n == 0) break;
                    if (n < 0 && Marshal.GetLastPInvokeError() == Native.EINTR) continue;
                    if (n < 0) throw new IOException(Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
                    lock (_all) _all.Write(buffer, 0, (int)n);
                    if (pauseEvery > 0 && reads % pauseEvery == 0) Thread.Sleep(1);
                }
            }
            finally
            {
                Native.close(fd);
            }
            lock (_all) return _all.ToArray();
        }
    }
}
