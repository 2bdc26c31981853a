using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Polly;
using Polly.Retry;
using TrainLauncher.Output;

namespace TrainLauncher.Storage;

/// <summary>
/// The built-in object storage client (SPEC section 7): fetches a prefix into a directory and
/// uploads files or directories, in parallel, with retries (Polly) and integrity checks.
/// Every request has a watchdog; listings and walks stream (memory does not grow with the
/// number of keys or files). A fetch failure, or an upload the store refused, is one
/// <see cref="ObjectStoreException"/> line; a local entry an upload cannot read is one warning
/// and the upload goes on.
/// </summary>
internal sealed class ObjectStore : IDisposable
{
    private const int BufferSize = 256 * 1024;
    private const int MaxParts = 10_000;

    private readonly ObjectStoreSettings settings;
    private readonly TransferTuning tuning;
    private readonly AmazonS3Client client;
    private readonly ResiliencePipeline retry;

    public ObjectStore(ObjectStoreSettings settings)
        : this(settings, TransferTuning.Default)
    {
    }

    /// <param name="http">Where requests go instead of the network (the fuzz targets feed listings through it).</param>
    internal ObjectStore(ObjectStoreSettings settings, TransferTuning tuning, HttpClientFactory? http = null)
    {
        this.settings = settings;
        this.tuning = tuning;
        var config = CreateConfig(settings, tuning);
        if (http is not null)
            config.HttpClientFactory = http;
        client = new AmazonS3Client(CreateCredentials(settings.Credentials), config);
        retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = tuning.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = tuning.BaseDelay,
                MaxDelay = tuning.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } error
                    && !args.Context.CancellationToken.IsCancellationRequested
                    && StorageErrors.IsTransient(error)),
            })
            .Build();
    }

    /// <summary>
    /// Fetches every object under <paramref name="source"/> into <paramref name="targetDir"/>
    /// (created with the first object). Objects are fetched while the listing goes on; each
    /// page is checked before any of its objects is placed. Writes nothing outside the target.
    /// On failure the directory may hold partial files: the caller removes it.
    /// </summary>
    public async Task<TransferStats> DownloadPrefixAsync(
        ObjectUrl source, string targetDir, ILogger log, CancellationToken cancellationToken)
    {
        // Anonymous requests over http need no crypto; https and signing do.
        if (settings.Endpoint.Scheme == Uri.UriSchemeHttps || settings.Credentials is not null)
            RequireOpenSsl($"cannot fetch {source}: the built-in client needs OpenSSL for https and signed requests",
                "dls-downloader (DLS_USE_DOWNLOADER=1), a local DLS_APP_URL or an anonymous http endpoint still work");
        var layout = new FetchLayout(source, targetDir);
        // One limit for all GET requests, whether whole objects or ranges of a large one.
        using var requestSlots = new SemaphoreSlim(settings.Transfers);
        await using var progress = new TransferProgress("fetch", source, log, tuning.ProgressInterval);
        var anyObject = false;
        try
        {
            await Parallel.ForEachAsync(
                PlacedFilesAsync(cancellationToken),
                new ParallelOptions { MaxDegreeOfParallelism = settings.Transfers, CancellationToken = cancellationToken },
                async (file, token) =>
                {
                    var url = $"{source.Scheme}://{source.Bucket}/{OneLine.Escape(file.Key)}";
                    try
                    {
                        var ranged = file.Size > tuning.RangeSize;
                        using var output = layout.Create(file, preallocate: ranged);
                        await Guard($"cannot fetch {url}", source.Bucket, token, () => ranged
                            ? DownloadRangesAsync(source.Bucket, file, output, requestSlots, progress, token)
                            : DownloadWholeAsync(source.Bucket, file, output, requestSlots, progress, token));
                    }
                    catch (LocalFileException e)
                    {
                        throw new ObjectStoreException($"cannot fetch {url}: {e.Message}", e);
                    }
                    progress.FileDone();
                });
        }
        catch (Exception e) when (e is not ObjectStoreException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            throw new ObjectStoreException($"cannot fetch {source}: {OneLine.Escape(e.Message)}", e);
        }
        if (!anyObject)
        {
            throw new ObjectStoreException(progress.SkippedSoFar > 0
                ? $"no objects under {source}: the store listed only keys outside it"
                : $"no objects under {source}: the prefix is empty or does not exist");
        }
        return await progress.CompleteAsync();

        async IAsyncEnumerable<FetchLayout.File> PlacedFilesAsync([EnumeratorCancellation] CancellationToken token = default)
        {
            await foreach (var page in ListPagesAsync(source, token))
            {
                layout.Check(page);
                foreach (var entry in page)
                {
                    switch (layout.Place(entry, out var file))
                    {
                        case FetchLayout.Placement.Outside:
                            log.KeyOutsidePrefix(OneLine.Escape(entry.Key), source.ToString());
                            progress.Skipped();
                            break;
                        case FetchLayout.Placement.Directory:
                            anyObject = true;
                            break;
                        default:
                            anyObject = true;
                            progress.Planned(file!.Size);
                            yield return file;
                            break;
                    }
                }
            }
        }
    }

    /// <summary>
    /// The listing of <paramref name="source"/>, one page at a time as it is consumed, checked
    /// by a <see cref="ListingCursor"/>: a listing that would never end fails with one line.
    /// The next page is requested as soon as a page arrives (one page ahead, never more), so
    /// the downloads do not wait for the listing between pages.
    /// </summary>
    internal async IAsyncEnumerable<IReadOnlyList<S3Object>> ListPagesAsync(
        ObjectUrl source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var cursor = new ListingCursor(source);
        var next = ListPageAsync(source, null, cancellationToken);
        while (true)
        {
            var page = await next;
            var objects = page.S3Objects ?? [];
            cursor.Advance(page.IsTruncated, page.NextContinuationToken, [.. objects.Select(o => o.Key ?? "")]);
            if (!cursor.Done)
                next = ListPageAsync(source, cursor.Token, cancellationToken);
            yield return objects;
            if (cursor.Done)
                yield break;
        }
    }

    private Task<ListObjectsV2Response> ListPageAsync(ObjectUrl source, string? token, CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request
        {
            BucketName = source.Bucket, Prefix = source.Prefix, MaxKeys = tuning.ListPageSize, ContinuationToken = token,
        };
        return Guard($"cannot list {source}", source.Bucket, cancellationToken,
            () => retry.ExecuteAsync(t => WithWatchdog(tuning.IdleTimeout, t, w => client.ListObjectsV2Async(request, w)), cancellationToken)).AsTask();
    }

    /// <summary>Uploads one file (the job log: a link to it is followed) to <c>destination</c> + its file name.</summary>
    public async Task<TransferStats> UploadFileAsync(
        string localFile, ObjectUrl destination, ILogger log, CancellationToken cancellationToken)
    {
        RequireOpenSslToUpload(destination);
        var path = Path.GetFullPath(localFile);
        using var requestSlots = new SemaphoreSlim(settings.Transfers);
        await using var progress = new TransferProgress("upload", destination, log, tuning.ProgressInterval);
        try
        {
            await SendFileAsync(new LocalTree.Entry.File(path, Path.GetFileName(path), 0), destination, followLink: true, requestSlots, progress, cancellationToken);
        }
        catch (LocalFileException e)
        {
            throw new ObjectStoreException($"cannot upload {OneLine.Escape(path)}: {e.Message}", e);
        }
        progress.FileDone();
        return await progress.CompleteAsync();
    }

    /// <summary>
    /// Uploads the contents of <paramref name="localDir"/> under <paramref name="destination"/>
    /// (<c>dir/a/b.txt</c> → <c>prefix/a/b.txt</c>); empty directories become marker keys.
    /// Regular files only: links, FIFOs, sockets and devices are skipped, an unreadable entry
    /// fails alone, each with one warning. A failure of the store stops the upload with an
    /// <see cref="ObjectStoreException"/> that carries what was done (<see cref="ObjectStoreException.Partial"/>).
    /// <paramref name="select"/> (the checkpoint sync's "what changed") leaves out the entries it refuses, uncounted;
    /// <paramref name="maxTransfers"/> lowers --transfers (the checkpoint sync: one request at a time).
    /// </summary>
    public async Task<TransferStats> UploadDirectoryAsync(
        string localDir, ObjectUrl destination, ILogger log, CancellationToken cancellationToken, Func<LocalTree.Entry, bool>? select = null,
        int? maxTransfers = null)
    {
        int transfers = Math.Min(settings.Transfers, maxTransfers ?? int.MaxValue);
        if (!Directory.Exists(localDir))
            throw new ObjectStoreException($"cannot upload {OneLine.Escape(localDir)}: no such directory");
        RequireOpenSslToUpload(destination);
        // One limit for all PUT requests, whether whole files or parts of a large one.
        using var requestSlots = new SemaphoreSlim(transfers);
        await using var progress = new TransferProgress("upload", destination, log, tuning.ProgressInterval);
        try
        {
            await Parallel.ForEachAsync(
                select is null ? LocalTree.Walk(localDir) : LocalTree.Walk(localDir).Where(select),
                new ParallelOptions { MaxDegreeOfParallelism = transfers, CancellationToken = cancellationToken },
                async (entry, token) =>
                {
                    switch (entry)
                    {
                        case LocalTree.Entry.Skipped skipped:
                            log.EntrySkipped(OneLine.Escape(skipped.Path), skipped.Reason);
                            progress.Skipped();
                            break;
                        case LocalTree.Entry.Failed failed:
                            log.DirectoryUnreadable(OneLine.Escape(failed.Path), failed.Reason);
                            progress.Failed();
                            break;
                        case LocalTree.Entry.EmptyDirectory empty:
                            await PutMarkerAsync(destination, destination.Prefix + empty.Key, token);
                            break;
                        case LocalTree.Entry.File file:
                            try
                            {
                                await SendFileAsync(file, destination, followLink: false, requestSlots, progress, token);
                                progress.FileDone();
                            }
                            catch (LocalFileException e)
                            {
                                log.FileNotUploaded(OneLine.Escape(file.Path), e.Message);
                                progress.Failed();
                            }
                            break;
                    }
                });
        }
        catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            progress.Failed();
            var partial = await progress.CompleteAsync();
            var message = e is ObjectStoreException ? e.Message : $"cannot upload {OneLine.Escape(localDir)}: {OneLine.Escape(e.Message)}";
            throw new ObjectStoreException(message, e) { Partial = partial };
        }
        return await progress.CompleteAsync();
    }

    /// <summary>Deletes <paramref name="relativeKeys"/> under <paramref name="prefix"/> (the checkpoint sync's --checkpoint-delete), one request each.</summary>
    public async Task DeleteAsync(ObjectUrl prefix, IEnumerable<string> relativeKeys, CancellationToken cancellationToken)
    {
        foreach (var relative in relativeKeys)
        {
            string key = prefix.Prefix + relative;
            await Guard($"cannot delete {prefix.Scheme}://{prefix.Bucket}/{OneLine.Escape(key)}", prefix.Bucket, cancellationToken,
                () => retry.ExecuteAsync(async t => { await client.DeleteObjectAsync(prefix.Bucket, key, t); }, cancellationToken));
        }
    }

    /// <summary>Whether anything is stored under <paramref name="source"/> (one listing page).</summary>
    public async Task<bool> AnyUnderAsync(ObjectUrl source, CancellationToken cancellationToken)
    {
        await foreach (var page in ListPagesAsync(source, cancellationToken))
            return page.Count > 0;
        return false;
    }

    public void Dispose() => client.Dispose();

    private static AWSCredentials CreateCredentials(StorageCredentials? credentials) => credentials switch
    {
        null => new AnonymousAWSCredentials(),
        { SessionToken: { } token } => new SessionAWSCredentials(credentials.AccessKeyId, credentials.SecretAccessKey, token),
        _ => new BasicAWSCredentials(credentials.AccessKeyId, credentials.SecretAccessKey),
    };

    private static AmazonS3Config CreateConfig(ObjectStoreSettings settings, TransferTuning tuning) => new()
    {
        ServiceURL = settings.Endpoint.ToString(),
        AuthenticationRegion = settings.Region,
        ForcePathStyle = settings.PathStyle,
        // Polly retries; two retry layers would multiply attempts and hide the count.
        MaxErrorRetry = 0,
        ThrottleRetries = false,
        // SDK 4 defaults to CRC32 checksums on every request and response; OBS and other
        // S3-compatible stores (and s3rver) do not all speak them. We check size and MD5 ETag.
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        // Each request has its own watchdog (an idle timeout for reads, a size-based deadline
        // for uploads); this is only the backstop behind them, never shorter than the longest.
        Timeout = tuning.UploadTimeout(tuning.MaxPartBytes),
        MaxConnectionsPerServer = settings.Transfers + 2,
    };

    /// <summary>A small object in one GET; a retry starts it over.</summary>
    private async ValueTask DownloadWholeAsync(string bucket, FetchLayout.File file, SafeFileHandle output, SemaphoreSlim requestSlots, TransferProgress progress, CancellationToken token)
    {
        await requestSlots.WaitAsync(token);
        try
        {
            await retry.ExecuteAsync(t => DownloadOnceAsync(bucket, file, output, progress, t), token);
        }
        finally
        {
            requestSlots.Release();
        }
    }

    /// <summary>
    /// A large object in ranges fetched in parallel (sharing <c>--transfers</c> with the other
    /// objects) and written in place; a range that fails resumes where it stopped, on the same
    /// object (If-Match). The ETag is checked as <see cref="ETagCheck"/> says; a body that does
    /// not match it is fetched once more from the start.
    /// </summary>
    private async ValueTask DownloadRangesAsync(string bucket, FetchLayout.File file, SafeFileHandle output, SemaphoreSlim requestSlots, TransferProgress progress, CancellationToken token)
    {
        var check = ETagCheck.For(file.ETag, file.Size, tuning.PartSize, tuning.RangeSize);
        for (int attempt = 1; ; attempt++)
        {
            var ranges = Cut(file.Size, check.RangeSize);
            var done = new long[ranges.Count];
            var rangeMd5s = check.NeedsRangeMd5s ? new byte[ranges.Count][] : null;
            using var ordered = check.NeedsWholeMd5 ? new OrderedMd5(output, ranges) : null;
            try
            {
                // Few ranges of one object at a time, in order: they finish close to the hash front,
                // so hashing in order goes on during the download instead of after it.
                await Parallel.ForEachAsync(
                    Enumerable.Range(0, ranges.Count),
                    new ParallelOptions { MaxDegreeOfParallelism = Math.Min(settings.Transfers, tuning.RangesInFlight), CancellationToken = token },
                    async (i, rangeToken) =>
                    {
                        using var md5 = rangeMd5s is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.MD5);
                        await retry.ExecuteAsync(async t =>
                        {
                            await requestSlots.WaitAsync(t);
                            try { await DownloadRangeAsync(bucket, file, output, ranges[i], i, done, ordered, md5, progress, t); }
                            finally { requestSlots.Release(); }
                        }, rangeToken);
                        if (md5 is not null) rangeMd5s![i] = md5.GetHashAndReset();
                    });
                if (ordered is not null) check.VerifyWhole(await ordered.ResultAsync());
                if (rangeMd5s is not null) check.VerifyParts(rangeMd5s, output, file.Size);
                return;
            }
            catch (ObjectIntegrityException) when (attempt == 1 && !token.IsCancellationRequested)
            {
                progress.AddBytes(-done.Sum()); // damaged on the way: once more, from the start
            }
        }
    }

    /// <summary>One attempt at a range, from where the last one stopped.</summary>
    private async Task DownloadRangeAsync(
        string bucket, FetchLayout.File file, SafeFileHandle output, (long Start, long Length) range, int index, long[] done,
        OrderedMd5? ordered, IncrementalHash? md5, TransferProgress progress, CancellationToken token)
    {
        using var watchdog = CancellationTokenSource.CreateLinkedTokenSource(token);
        watchdog.CancelAfter(tuning.IdleTimeout);
        var first = range.Start + done[index];
        var last = range.Start + range.Length - 1;
        using var response = await client.GetObjectAsync(new GetObjectRequest
        {
            BucketName = bucket, Key = file.Key, ByteRange = new ByteRange(first, last),
            // The same object for every range: a replaced one fails with 412, never mixes.
            EtagToMatch = file.ETag,
        }, watchdog.Token);
        if (response.ContentLength != last - first + 1)
        {
            throw new ObjectIntegrityException(
                $"the store answered bytes {first}-{last} with {response.ContentLength} bytes (does it ignore Range?)", transient: false);
        }
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = await response.ResponseStream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(BufferSize, range.Length - done[index])), watchdog.Token)) > 0)
            {
                watchdog.CancelAfter(tuning.IdleTimeout);
                var data = buffer.AsMemory(0, read);
                Write(output, data.Span, range.Start + done[index]);
                ordered?.Wrote(index, done[index], data.Span);
                md5?.AppendData(data.Span);
                done[index] += read;
                progress.AddBytes(read);
                if (done[index] == range.Length) break;
            }
            if (done[index] != range.Length)
                throw new IOException($"the response ended after {done[index]} of {range.Length} bytes of bytes {range.Start}-{last}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Ranges of <paramref name="rangeSize"/> bytes covering <paramref name="size"/>, the last one shorter.</summary>
    private static List<(long Start, long Length)> Cut(long size, long rangeSize)
    {
        var ranges = new List<(long, long)>((int)((size + rangeSize - 1) / rangeSize));
        for (long start = 0; start < size; start += rangeSize)
            ranges.Add((start, Math.Min(rangeSize, size - start)));
        return ranges;
    }

    private async ValueTask DownloadOnceAsync(string bucket, FetchLayout.File file, SafeFileHandle output, TransferProgress progress, CancellationToken token)
    {
        // The watchdog is re-armed on every chunk: a stalled response fails after the idle
        // timeout, a slow but moving one never does.
        using var watchdog = CancellationTokenSource.CreateLinkedTokenSource(token);
        watchdog.CancelAfter(tuning.IdleTimeout);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long written = 0;
        try
        {
            using var response = await client.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = file.Key }, watchdog.Token);
            if (response.ContentLength != file.Size)
            {
                // Not a transient fault: the object is not the one listed (replaced, or the listing lies).
                throw new ObjectIntegrityException(
                    $"the store sent {response.ContentLength} bytes, the listing said {file.Size} (was the object replaced during the fetch?)", transient: false);
            }
            int read;
            while ((read = await response.ResponseStream.ReadAsync(buffer, watchdog.Token)) > 0)
            {
                watchdog.CancelAfter(tuning.IdleTimeout);
                Write(output, buffer.AsSpan(0, read), written);
                written += read;
                progress.AddBytes(read);
            }
            if (written != file.Size)
                throw new ObjectIntegrityException($"the store sent {written} bytes, the listing said {file.Size}", transient: true);
        }
        catch (AmazonClientException error) when (error.Message.Contains("hash", StringComparison.OrdinalIgnoreCase))
        {
            // The SDK checks a single-part ETag (the body's MD5) as the stream ends, and skips
            // multipart and SSE-KMS/SSE-C ETags; one MD5 pass is enough, so we rely on it.
            progress.AddBytes(-written);
            throw new ObjectIntegrityException($"MD5 mismatch: the body does not match ETag {OneLine.Escape(file.ETag)}", transient: true);
        }
        catch
        {
            progress.AddBytes(-written); // the retry starts the file over
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// A positional write; a failure is the local disk's (full, read-only), never the network's.
    /// Synchronous: a write lands in the page cache in microseconds, and the async form of a
    /// file write is only a hop to another pool thread and back.
    /// </summary>
    private static void Write(SafeFileHandle output, ReadOnlySpan<byte> data, long offset)
    {
        try
        {
            RandomAccess.Write(output, data, offset);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LocalFileException("cannot write the local file: " + LocalFileException.From(e).Message, e);
        }
    }

    /// <summary>Fails with one line instead of letting .NET abort the process (see <see cref="OpenSslLibrary"/>).</summary>
    private static void RequireOpenSsl(string failure, string whatWorks)
    {
        if (OpenSslLibrary.Soname is null)
            throw new ObjectStoreException($"{failure}, and {OpenSslLibrary.Missing}; {whatWorks}");
    }

    /// <summary>Every upload hashes its files with MD5, which .NET does through OpenSSL.</summary>
    private static void RequireOpenSslToUpload(ObjectUrl destination) =>
        RequireOpenSsl($"cannot upload to {destination}: the built-in client needs OpenSSL to upload (MD5, https, signing)",
            "dls-downloader still uploads the log (DLS_USE_UPLOADER=1)");

    /// <summary>A single-part ETag is the MD5 of the body; any other form (SSE-KMS, SSE-C, other stores) is not checked.</summary>
    private static void VerifyMd5(string? etag, byte[]? md5)
    {
        var expected = etag?.Trim('"');
        if (md5 is not null && expected is { Length: 32 } && expected.All(char.IsAsciiHexDigit)
            && !expected.Equals(Convert.ToHexStringLower(md5), StringComparison.OrdinalIgnoreCase))
        {
            throw new ObjectIntegrityException($"MD5 mismatch: ETag {expected}, body {Convert.ToHexStringLower(md5)}", transient: true);
        }
    }

    /// <summary>
    /// A multipart ETag is the MD5 of the parts' MD5s, then "-" and the number of parts. Not
    /// transient: the object is complete on the store, only a new upload would replace it.
    /// </summary>
    private static void VerifyMultipartETag(string? etag, byte[][] partMd5s)
    {
        var stored = etag?.Trim('"');
        if (stored is null || !stored.Contains('-', StringComparison.Ordinal) || stored.Length < 34 || !stored[..32].All(char.IsAsciiHexDigit))
            return;
        var expected = $"{Convert.ToHexStringLower(MD5.HashData(partMd5s.SelectMany(p => p).ToArray()))}-{partMd5s.Length}";
        if (!stored.Equals(expected, StringComparison.OrdinalIgnoreCase))
            throw new ObjectIntegrityException($"the stored object's ETag {OneLine.Escape(stored)} does not match the parts sent ({expected})", transient: false);
    }

    private async ValueTask PutMarkerAsync(ObjectUrl destination, string key, CancellationToken token) =>
        await Guard($"cannot upload {destination.Scheme}://{destination.Bucket}/{OneLine.Escape(key)}", destination.Bucket, token,
            () => retry.ExecuteAsync(t => WithWatchdog(tuning.IdleTimeout, t, w =>
                client.PutObjectAsync(new PutObjectRequest { BucketName = destination.Bucket, Key = key, ContentBody = "", UseChunkEncoding = false }, w)), token));

    /// <summary>Opens the file (regular only: <see cref="LocalFileException"/> otherwise) and sends it in one PUT or in parts.</summary>
    private async Task SendFileAsync(
        LocalTree.Entry.File file, ObjectUrl destination, bool followLink, SemaphoreSlim requestSlots, TransferProgress progress, CancellationToken token)
    {
        var (handle, size) = LocalFiles.OpenRegular(file.Path, followLink);
        using (handle)
        {
            progress.Planned(size);
            var key = destination.Prefix + file.Key;
            await Guard($"cannot upload {OneLine.Escape(file.Path)} to {destination.Scheme}://{destination.Bucket}/{OneLine.Escape(key)}", destination.Bucket, token,
                async () =>
                {
                    if (size >= tuning.PartSize)
                        await UploadMultipartAsync(destination.Bucket, key, handle, size, requestSlots, progress, token);
                    else
                        await UploadSingleAsync(destination.Bucket, key, handle, size, requestSlots, progress, token);
                });
        }
    }

    private async ValueTask UploadSingleAsync(string bucket, string key, SafeFileHandle handle, long size, SemaphoreSlim requestSlots, TransferProgress progress, CancellationToken token)
    {
        await requestSlots.WaitAsync(token);
        try
        {
            await retry.ExecuteAsync(async t =>
            {
                using var body = new FileRangeStream(handle, 0, size);
                var response = await WithWatchdog(tuning.UploadTimeout(size), t, w => client.PutObjectAsync(
                    new PutObjectRequest { BucketName = bucket, Key = key, InputStream = body, AutoCloseStream = false, UseChunkEncoding = false, DisablePayloadSigning = UnsignedPayload }, w));
                VerifyMd5(response.ETag, body.Md5);
            }, token);
        }
        finally
        {
            requestSlots.Release();
        }
        progress.AddBytes(size);
    }

    private async ValueTask UploadMultipartAsync(string bucket, string key, SafeFileHandle handle, long size, SemaphoreSlim requestSlots, TransferProgress progress, CancellationToken token)
    {
        var partSize = Math.Max(tuning.PartSize, (size + MaxParts - 1) / MaxParts);
        var partCount = (int)((size + partSize - 1) / partSize);
        var uploadId = (await retry.ExecuteAsync(t => WithWatchdog(tuning.IdleTimeout, t, w =>
            client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = key }, w)), token)).UploadId;
        try
        {
            var etags = new PartETag[partCount];
            var md5s = new byte[partCount][];
            await Parallel.ForEachAsync(
                Enumerable.Range(1, partCount),
                new ParallelOptions { MaxDegreeOfParallelism = settings.Transfers, CancellationToken = token },
                async (partNumber, partToken) =>
                {
                    var position = (partNumber - 1) * partSize;
                    var length = Math.Min(partSize, size - position);
                    await requestSlots.WaitAsync(partToken);
                    try
                    {
                        etags[partNumber - 1] = await retry.ExecuteAsync(async t =>
                        {
                            using var body = new FileRangeStream(handle, position, length);
                            var response = await WithWatchdog(tuning.UploadTimeout(length), t, w => client.UploadPartAsync(new UploadPartRequest
                            {
                                BucketName = bucket, Key = key, UploadId = uploadId, PartNumber = partNumber,
                                InputStream = body, PartSize = length, IsLastPart = partNumber == partCount, UseChunkEncoding = false,
                                DisablePayloadSigning = UnsignedPayload,
                            }, w));
                            VerifyMd5(response.ETag, body.Md5);
                            md5s[partNumber - 1] = body.Md5!;
                            return new PartETag(partNumber, response.ETag);
                        }, partToken);
                    }
                    finally
                    {
                        requestSlots.Release();
                    }
                    progress.AddBytes(length);
                });
            var completed = await retry.ExecuteAsync(t => WithWatchdog(tuning.CompleteTimeout(partCount), t, w =>
                client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = bucket, Key = key, UploadId = uploadId, PartETags = [.. etags] }, w)), token);
            VerifyMultipartETag(completed.ETag, md5s);
        }
        catch
        {
            // Best effort: an unfinished upload only costs storage until the bucket's lifecycle rule.
            try
            {
                using var abortTimeout = new CancellationTokenSource(tuning.IdleTimeout);
                await client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket, Key = key, UploadId = uploadId }, abortTimeout.Token);
            }
            catch (Exception abortError) when (abortError is AmazonClientException or AmazonServiceException or OperationCanceledException or HttpRequestException or IOException)
            {
            }
            throw;
        }
    }

    /// <summary>
    /// Over https the body is not hashed for the signature (UNSIGNED-PAYLOAD, as rclone does by
    /// default): TLS protects it on the way and the MD5 ETag check proves what was stored, so a
    /// SHA-256 pass over every byte buys nothing. Plain http must sign it.
    /// </summary>
    private bool UnsignedPayload => settings.Endpoint.Scheme == Uri.UriSchemeHttps;

    /// <summary>One request with a deadline of its own: a stalled server is a timeout (retried), never a hang.</summary>
    private static async ValueTask<T> WithWatchdog<T>(TimeSpan limit, CancellationToken token, Func<CancellationToken, Task<T>> request)
    {
        using var watchdog = CancellationTokenSource.CreateLinkedTokenSource(token);
        watchdog.CancelAfter(limit);
        return await request(watchdog.Token);
    }

    /// <summary>
    /// Turns any failure except the caller's cancellation into one <see cref="ObjectStoreException"/>
    /// line; a local file's failure stays a <see cref="LocalFileException"/> for the caller to place.
    /// </summary>
    private async ValueTask<T> Guard<T>(string what, string bucket, CancellationToken token, Func<ValueTask<T>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception error) when (error is not ObjectStoreException && !(error is OperationCanceledException && token.IsCancellationRequested))
        {
            if (StorageErrors.Find<LocalFileException>(error) is { } local)
                throw local;
            var attempts = StorageErrors.IsTransient(error) ? $" (after {tuning.MaxRetries + 1} attempts)" : "";
            throw new ObjectStoreException($"{what}: {StorageErrors.Describe(error, settings, bucket)}{attempts}", error);
        }
    }

    private ValueTask Guard(string what, string bucket, CancellationToken token, Func<ValueTask> action) =>
        new(Guard(what, bucket, token, async () => { await action(); return true; }).AsTask());
}
