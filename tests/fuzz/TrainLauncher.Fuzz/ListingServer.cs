using System.Net;
using System.Net.Http.Headers;
using Amazon.Runtime;

namespace TrainLauncher.Fuzz;

/// <summary>
/// An S3 endpoint inside the process: every ListObjectsV2 request gets the same fuzzed body,
/// every other request 403 AccessDenied. It goes into AWSSDK's own HttpClient, so the SDK's
/// unmarshaller and our listing code read the body exactly as they would read a server's.
/// </summary>
public sealed class ListingServer(byte[] body) : HttpClientFactory
{
    /// <summary>More list requests than any sane listing of this body needs: the caller loops.</summary>
    public const int MaxPages = 50;

    private int _pages;

    public int Pages => _pages;

    /// <summary>Cancelled once the listing asked for more than <see cref="MaxPages"/> pages.</summary>
    public CancellationTokenSource Looping { get; } = new();

    public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new Handler(this));

    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => true;

    private sealed class Handler(ListingServer server) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            bool list = request.RequestUri?.Query.Contains("list-type=2", StringComparison.Ordinal) == true;
            if (list && Interlocked.Increment(ref server._pages) > MaxPages)
                server.Looping.Cancel();
            var response = list
                ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(server.Body) }
                : new HttpResponseMessage(HttpStatusCode.Forbidden)
                {
                    Content = new StringContent("<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>no objects here</Message></Error>"),
                };
            response.Content.Headers.ContentType = new MediaTypeHeaderValue("application/xml");
            response.RequestMessage = request;
            return Task.FromResult(response);
        }
    }

    private byte[] Body => body;
}
