using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using TrainLauncher.Output;

namespace TrainLauncher.Storage;

/// <summary>Which failures are worth another attempt, and how to say a failure in one line.</summary>
internal static class StorageErrors
{
    /// <summary>
    /// 5xx, throttling (429, 503 SlowDown), timeouts, resets and refused connections are
    /// transient; any other 4xx (unknown bucket, denied) will not get better by retrying.
    /// Cancellation by the caller is excluded by the retry policy before this is asked.
    /// </summary>
    public static bool IsTransient(Exception error) => error switch
    {
        // A local file's failure (gone, unreadable, disk full) is never the network's, whatever it wraps.
        LocalFileException => false,
        ObjectIntegrityException integrity => integrity.Transient,
        AmazonServiceException { StatusCode: > 0 } service =>
            (int)service.StatusCode >= 500
            || service.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout
            || service.ErrorCode is "SlowDown" or "RequestTimeout" or "Throttling",
        HttpRequestException or IOException or SocketException
            or TimeoutException or OperationCanceledException => true,
        _ => error.InnerException is { } inner && IsTransient(inner),
    };

    /// <summary>One line naming what went wrong and what to check; the store's own words escaped.</summary>
    public static string Describe(Exception error, ObjectStoreSettings settings, string bucket)
    {
        var endpoint = settings.Endpoint.GetLeftPart(UriPartial.Authority);
        var text = error switch
        {
            AmazonServiceException { ErrorCode: "NoSuchBucket" } =>
                $"bucket '{bucket}' does not exist at {endpoint}",
            AmazonServiceException { ErrorCode: "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "AccessDenied" or "InvalidToken" or "ExpiredToken" } service =>
                $"access denied by {endpoint} ({service.ErrorCode}): check the access key id and secret key ({settings.Credentials?.ToString() ?? "no credentials set"})",
            AmazonServiceException { StatusCode: HttpStatusCode.PreconditionFailed } =>
                "the object changed during the fetch (412 PreconditionFailed)", // If-Match of a ranged GET
            AmazonServiceException { StatusCode: > 0 } service =>
                $"{(int)service.StatusCode} {OneLine.Escape(service.ErrorCode)}: {OneLine.Escape(service.Message)}",
            ObjectIntegrityException integrity => integrity.Message, // ours, keys already escaped
            OperationCanceledException or TimeoutException =>
                $"timed out waiting for {endpoint}",
            _ when Find<SocketException>(error) is { } socket =>
                $"cannot connect to {endpoint}: {OneLine.Escape(socket.Message)}",
            _ when Find<IOException>(error) is { } io => $"connection broken: {OneLine.Escape(io.Message)}",
            _ when Find<HttpRequestException>(error) is { } http => $"request to {endpoint} failed: {OneLine.Escape(http.Message)}",
            _ => OneLine.Escape(error.Message),
        };
        return text;
    }

    /// <summary>The first exception of type <typeparamref name="T"/> in the chain of inner exceptions.</summary>
    public static T? Find<T>(Exception error) where T : Exception
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e is T found)
                return found;
        }
        return null;
    }
}
