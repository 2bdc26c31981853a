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
        AmazonServiceException { StatusCode: > 0 } service =>
            (int)service.StatusCode >= 500
            || service.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout
            || service.ErrorCode is "SlowDown" or "RequestTimeout" or "Throttling",
        ObjectIntegrityException or HttpRequestException or IOException or SocketException
            or TimeoutException or OperationCanceledException => true,
        _ => error.InnerException is { } inner && IsTransient(inner),
    };

    /// <summary>One line, no newlines, naming what went wrong and what to check.</summary>
    public static string Describe(Exception error, ObjectStoreSettings settings, string bucket)
    {
        var endpoint = settings.Endpoint.GetLeftPart(UriPartial.Authority);
        var text = error switch
        {
            AmazonServiceException { ErrorCode: "NoSuchBucket" } =>
                $"bucket '{bucket}' does not exist at {endpoint}",
            AmazonServiceException { ErrorCode: "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "AccessDenied" or "InvalidToken" or "ExpiredToken" } service =>
                $"access denied by {endpoint} ({service.ErrorCode}): check the access key id and secret key ({settings.Credentials?.ToString() ?? "no credentials set"})",
            AmazonServiceException { StatusCode: > 0 } service =>
                $"{(int)service.StatusCode} {service.ErrorCode}: {service.Message}",
            OperationCanceledException or TimeoutException =>
                $"timed out waiting for {endpoint}",
            _ when Find<SocketException>(error) is { } socket =>
                $"cannot connect to {endpoint}: {socket.Message}",
            _ when Find<IOException>(error) is { } io => $"connection broken: {io.Message}",
            _ when Find<HttpRequestException>(error) is { } http => $"request to {endpoint} failed: {http.Message}",
            _ => error.Message,
        };
        return OneLine.Escape(string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)));
    }

    private static T? Find<T>(Exception error) where T : Exception
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e is T found)
                return found;
        }
        return null;
    }
}
