using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using TrainLauncher.Output;

namespace TrainLauncher.Storage;

/// <summary>
/// The built-in object storage client (SPEC section 7): fetches a prefix into a directory and
/// uploads files or directories, in parallel, with retries (Polly) and integrity checks.
/// Every failure surfaces as one <see cref="ObjectStoreException"/> line.
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
        var config = CreateConfig(settings);
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
    /// (created if missing; only after the listing passed every check). Writes nothing outside
    /// it. On failure the directory may hold partial files: the caller removes it.
    /// </summary>
    public async Task<TransferStats> DownloadPrefixAsync(
        ObjectUrl source, string targetDir, ILogger log, CancellationToken cancellationToken)
    {
        // Anonymous requests over http need no crypto; https and signing do.
        if (settings.Endpoint.Scheme == Uri.UriSchemeHttps || settings.Credentials is not null)
            RequireOpenSsl($"cannot fetch {source}: the built-in client needs OpenSSL for https and signed requests",
                "dls-downloader (DLS_USE_DOWNLOADER=1), a local DLS_APP_URL or an anonymous http endpoint still work");
        var listing = await ListAsync(source, cancellationToken);
        var plan = DownloadPlan.Create(source, listing, targetDir);

        Directory.CreateDirectory(targetDir);
        foreach (var directory in plan.Directories)
            Directory.CreateDirectory(directory);

        await using var progress = new TransferProgress(
            "fetch", source, plan.Files.Count, plan.Files.Sum(f => f.Size), log, tuning.ProgressInterval);
        await Parallel.ForEachAsync(
            plan.Files,
            new ParallelOptions { MaxDegreeOfParallelism = settings.Transfers, CancellationToken = cancellationToken },
            async (file, token) =>
            {
                await Guard($"cannot fetch {source.Scheme}://{source.Bucket}/{OneLine.Escape(file.Key)}", source.Bucket, token,
                    () => retry.ExecuteAsync(t => DownloadOnceAsync(source.Bucket, file, progress, t), token));
                progress.FileDone();
            });
        return await progress.CompleteAsync();
    }

    /// <summary>Uploads one file to <c>destination</c> + its file name.</summary>
    public Task<TransferStats> UploadFileAsync(
        string localFile, ObjectUrl destination, ILogger log, CancellationToken cancellationToken)
    {
        if (!File.Exists(localFile))
            throw new ObjectStoreException($"cannot upload '{localFile}': no such file");
        var file = new FileInfo(localFile);
        return UploadAsync([new UploadItem(file.FullName, destination.Prefix + file.Name, file.Length)],
            [], destination, log, cancellationToken);
    }

    /// <summary>
    /// Uploads the contents of <paramref name="localDir"/> under <paramref name="destination"/>
    /// (<c>dir/a/b.txt</c> → <c>prefix/a/b.txt</c>); empty directories become marker keys.
    /// </summary>
    public Task<TransferStats> UploadDirectoryAsync(
        string localDir, ObjectUrl destination, ILogger log, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(localDir))
            throw new ObjectStoreException($"cannot upload '{localDir}': no such directory");
        var root = new DirectoryInfo(localDir);
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            AttributesToSkip = 0, // include dot files
            IgnoreInaccessible = false,
        };
        string KeyOf(FileSystemInfo entry) =>
            destination.Prefix + Path.GetRelativePath(root.FullName, entry.FullName).Replace(Path.DirectorySeparatorChar, '/');
        var files = root.EnumerateFiles("*", options)
            .Select(f => new UploadItem(f.FullName, KeyOf(f), f.Length))
            .ToList();
        var emptyDirectories = root.EnumerateDirectories("*", options)
            .Where(d => !d.EnumerateFileSystemInfos().Any())
            .Select(d => KeyOf(d) + "/")
            .ToList();
        return UploadAsync(files, emptyDirectories, destination, log, cancellationToken);
    }

    public void Dispose() => client.Dispose();

    private static AWSCredentials CreateCredentials(StorageCredentials? credentials) => credentials switch
    {
        null => new AnonymousAWSCredentials(),
        { SessionToken: { } token } => new SessionAWSCredentials(credentials.AccessKeyId, credentials.SecretAccessKey, token),
        _ => new BasicAWSCredentials(credentials.AccessKeyId, credentials.SecretAccessKey),
    };

    private static AmazonS3Config CreateConfig(ObjectStoreSettings settings) => new()
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
        // Our own idle timeout cancels stalled requests; HttpClient's whole-request timeout
        // would cut a slow but healthy large part.
        Timeout = Timeout.InfiniteTimeSpan,
        MaxConnectionsPerServer = settings.Transfers + 2,
    };

    private async Task<List<S3Object>> ListAsync(ObjectUrl source, CancellationToken cancellationToken)
    {
        var objects = new List<S3Object>();
        var request = new ListObjectsV2Request { BucketName = source.Bucket, Prefix = source.Prefix, MaxKeys = tuning.ListPageSize };
        var tokens = new HashSet<string>(StringComparer.Ordinal);
        ListObjectsV2Response page;
        do
        {
            page = await Guard($"cannot list {source}", source.Bucket, cancellationToken,
                () => retry.ExecuteAsync(async t =>
                {
                    using var watchdog = CancellationTokenSource.CreateLinkedTokenSource(t);
                    watchdog.CancelAfter(tuning.IdleTimeout);
                    return await client.ListObjectsV2Async(request, watchdog.Token);
                }, cancellationToken));
            objects.AddRange(page.S3Objects ?? []);
            // A truncated page must lead somewhere new, or the listing would never end.
            if (page.IsTruncated == true && (string.IsNullOrEmpty(page.NextContinuationToken) || !tokens.Add(page.NextContinuationToken)))
                throw new ObjectStoreException($"cannot list {source}: the server's listing does not advance (a truncated page without a new continuation token)");
            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);
        return objects;
    }

    private async ValueTask DownloadOnceAsync(string bucket, DownloadPlan.File file, TransferProgress progress, CancellationToken token)
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
            await using var output = new FileStream(file.Path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0, useAsync: true);
            int read;
            while ((read = await response.ResponseStream.ReadAsync(buffer, watchdog.Token)) > 0)
            {
                watchdog.CancelAfter(tuning.IdleTimeout);
                await output.WriteAsync(buffer.AsMemory(0, read), watchdog.Token);
                written += read;
                progress.AddBytes(read);
            }
            if (written != file.Size)
                throw new ObjectIntegrityException($"size mismatch: got {written} bytes, the listing said {file.Size}");
        }
        catch (AmazonClientException error) when (error.Message.Contains("hash", StringComparison.OrdinalIgnoreCase))
        {
            // The SDK checks a single-part ETag (the body's MD5) as the stream ends, and skips
            // multipart and SSE-KMS/SSE-C ETags; one MD5 pass is enough, so we rely on it.
            progress.AddBytes(-written);
            throw new ObjectIntegrityException($"MD5 mismatch: the body does not match ETag {file.ETag}");
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

    /// <summary>A single-part ETag is the MD5 of the body; a multipart one ("…-N") is not, and is skipped.</summary>
    private static void VerifyMd5(string? etag, byte[] md5)
    {
        var expected = etag?.Trim('"');
        if (expected is { Length: 32 } && expected.All(char.IsAsciiHexDigit)
            && !expected.Equals(Convert.ToHexStringLower(md5), StringComparison.OrdinalIgnoreCase))
        {
            throw new ObjectIntegrityException($"MD5 mismatch: ETag {expected}, body {Convert.ToHexStringLower(md5)}");
        }
    }

    private sealed record UploadItem(string Path, string Key, long Size);

    /// <summary>Fails with one line instead of letting .NET abort the process (see <see cref="OpenSslLibrary"/>).</summary>
    private static void RequireOpenSsl(string failure, string whatWorks)
    {
        if (OpenSslLibrary.Soname is null)
            throw new ObjectStoreException($"{failure}, and {OpenSslLibrary.Missing}; {whatWorks}");
    }

    private async Task<TransferStats> UploadAsync(
        List<UploadItem> files, List<string> markerKeys, ObjectUrl destination, ILogger log, CancellationToken cancellationToken)
    {
        // Every upload hashes its files with MD5, which .NET does through OpenSSL.
        RequireOpenSsl($"cannot upload to {destination}: the built-in client needs OpenSSL to upload (MD5, https, signing)",
            "dls-downloader still uploads the log (DLS_USE_UPLOADER=1)");
        // One limit for all PUT requests, whether whole files or parts of a large one.
        using var requestSlots = new SemaphoreSlim(settings.Transfers);
        await using var progress = new TransferProgress(
            "upload", destination, files.Count, files.Sum(f => f.Size), log, tuning.ProgressInterval);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = settings.Transfers, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(markerKeys, parallel, async (key, token) =>
            await Guard($"cannot upload {destination.Scheme}://{destination.Bucket}/{OneLine.Escape(key)}", destination.Bucket, token,
                () => retry.ExecuteAsync(async t =>
                {
                    using var watchdog = CancellationTokenSource.CreateLinkedTokenSource(t);
                    watchdog.CancelAfter(tuning.IdleTimeout);
                    await client.PutObjectAsync(new PutObjectRequest { BucketName = destination.Bucket, Key = key, ContentBody = "", UseChunkEncoding = false }, watchdog.Token);
                }, token)));
        await Parallel.ForEachAsync(files, parallel, async (file, token) =>
        {
            await Guard($"cannot upload '{OneLine.Escape(file.Path)}' to {destination.Scheme}://{destination.Bucket}/{OneLine.Escape(file.Key)}", destination.Bucket, token,
                () => file.Size >= tuning.PartSize
                    ? UploadMultipartAsync(destination.Bucket, file, requestSlots, progress, token)
                    : UploadSingleAsync(destination.Bucket, file, requestSlots, progress, token));
            progress.FileDone();
        });
        return await progress.CompleteAsync();
    }

    private async ValueTask UploadSingleAsync(string bucket, UploadItem file, SemaphoreSlim requestSlots, TransferProgress progress, CancellationToken token)
    {
        byte[] md5;
        await using (var input = File.OpenRead(file.Path))
            md5 = await MD5.HashDataAsync(input, token);
        await requestSlots.WaitAsync(token);
        try
        {
            await retry.ExecuteAsync(async t =>
            {
                using var watchdog = CancellationTokenSource.CreateLinkedTokenSource(t);
                watchdog.CancelAfter(tuning.UploadTimeout(file.Size));
                var response = await client.PutObjectAsync(
                    new PutObjectRequest { BucketName = bucket, Key = file.Key, FilePath = file.Path, UseChunkEncoding = false },
                    watchdog.Token);
                VerifyMd5(response.ETag, md5);
            }, token);
        }
        finally
        {
            requestSlots.Release();
        }
        progress.AddBytes(file.Size);
    }

    private async ValueTask UploadMultipartAsync(string bucket, UploadItem file, SemaphoreSlim requestSlots, TransferProgress progress, CancellationToken token)
    {
        var partSize = Math.Max(tuning.PartSize, (file.Size + MaxParts - 1) / MaxParts);
        var partCount = (int)((file.Size + partSize - 1) / partSize);
        var uploadId = (await retry.ExecuteAsync(async t =>
            await client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = file.Key }, t), token)).UploadId;
        try
        {
            var etags = new ConcurrentDictionary<int, string>();
            await Parallel.ForEachAsync(
                Enumerable.Range(1, partCount),
                new ParallelOptions { MaxDegreeOfParallelism = settings.Transfers, CancellationToken = token },
                async (partNumber, partToken) =>
                {
                    var position = (partNumber - 1) * partSize;
                    var size = Math.Min(partSize, file.Size - position);
                    await requestSlots.WaitAsync(partToken);
                    try
                    {
                        var response = await retry.ExecuteAsync(async t =>
                        {
                            using var watchdog = CancellationTokenSource.CreateLinkedTokenSource(t);
                            watchdog.CancelAfter(tuning.UploadTimeout(size));
                            return await client.UploadPartAsync(new UploadPartRequest
                            {
                                BucketName = bucket, Key = file.Key, UploadId = uploadId, PartNumber = partNumber,
                                FilePath = file.Path, FilePosition = position, PartSize = size,
                                IsLastPart = partNumber == partCount, UseChunkEncoding = false,
                            }, watchdog.Token);
                        }, partToken);
                        etags[partNumber] = response.ETag;
                    }
                    finally
                    {
                        requestSlots.Release();
                    }
                    progress.AddBytes(size);
                });
            await retry.ExecuteAsync(async t => await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = bucket, Key = file.Key, UploadId = uploadId,
                PartETags = [.. etags.OrderBy(p => p.Key).Select(p => new PartETag(p.Key, p.Value))],
            }, t), token);
        }
        catch
        {
            // Best effort: an unfinished upload only costs storage until the bucket's lifecycle rule.
            try
            {
                using var abortTimeout = new CancellationTokenSource(tuning.IdleTimeout);
                await client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket, Key = file.Key, UploadId = uploadId }, abortTimeout.Token);
            }
            catch (Exception abortError) when (abortError is AmazonClientException or AmazonServiceException or OperationCanceledException or HttpRequestException or IOException)
            {
            }
            throw;
        }
    }

    /// <summary>Turns any failure except the caller's cancellation into one <see cref="ObjectStoreException"/> line.</summary>
    private async ValueTask<T> Guard<T>(string what, string bucket, CancellationToken token, Func<ValueTask<T>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception error) when (error is not ObjectStoreException && !(error is OperationCanceledException && token.IsCancellationRequested))
        {
            var attempts = StorageErrors.IsTransient(error) ? $" (after {tuning.MaxRetries + 1} attempts)" : "";
            throw new ObjectStoreException($"{what}: {StorageErrors.Describe(error, settings, bucket)}{attempts}", error);
        }
    }

    private ValueTask Guard(string what, string bucket, CancellationToken token, Func<ValueTask> action) =>
        new(Guard(what, bucket, token, async () => { await action(); return true; }).AsTask());
}
