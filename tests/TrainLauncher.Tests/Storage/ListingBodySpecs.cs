using Microsoft.Extensions.Logging.Abstractions;
using TrainLauncher.Fuzz;
using TrainLauncher.Storage;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Storage;

/// <summary>
/// Listing bodies the listing fuzz target found a crash or a hang with, fed to AWSSDK.S3 and our
/// fetch in-process (<see cref="ListingServer"/>): each is now one ObjectStoreException line.
/// </summary>
public sealed class ListingBodySpecs
{
    private static readonly TransferTuning Tuning = TransferTuning.Default with
    {
        MaxRetries = 1,
        BaseDelay = TimeSpan.FromMilliseconds(1),
        MaxDelay = TimeSpan.FromMilliseconds(1),
        ProgressInterval = TimeSpan.FromHours(1),
    };

    private static string Body(string truncation, params string[] contents) =>
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        + $"<Name>b</Name><Prefix>app/</Prefix>{truncation}{string.Concat(contents)}</ListBucketResult>";

    private static string Object(string key, string size) => $"<Contents><Key>{key}</Key><Size>{size}</Size></Contents>";

    [Theory]
    // Was ArgumentOutOfRangeException (125 "internal error"): the key is shorter than the prefix.
    // A key outside the prefix is skipped with a warning; here it was the only one.
    [InlineData("<IsTruncated>false</IsTruncated>", "<Contents><Key>ap</Key><Size>1</Size></Contents>",
        "no objects under s3://fuzz-bucket/app/: the store listed only keys outside it")]
    // Was NullReferenceException: an entry without a key.
    [InlineData("", "<Contents><Size>1</Size></Contents>",
        "the listing of s3://fuzz-bucket/app/ has an object without a key: the listing is wrong")]
    // Was OverflowException: the declared sizes add up past a long.
    [InlineData("", "<Contents><Key>app/a</Key><Size>9223372036854775807</Size></Contents><Contents><Key>app/b</Key><Size>9223372036854775807</Size></Contents>",
        "object key 'app/a' under s3://fuzz-bucket/app/ declares 9223372036854775807 bytes, more than one object can hold (50 TB): the listing is wrong")]
    // Was a newline in the error line: a key holding one (an XML character reference).
    [InlineData("", "<Contents><Key>app/a&#10;[trainlauncher] exit status 0/</Key><Size>0</Size></Contents><Contents><Key>app/a&#10;[trainlauncher] exit status 0</Key><Size>0</Size></Contents>",
        @"object key 'app/a\n[trainlauncher] exit status 0' under s3://fuzz-bucket/app/ is both a file and a directory prefix")]
    // Was a loop without end (and memory growing with every page): truncated, with no token or the same token again.
    [InlineData("<IsTruncated>true</IsTruncated>", "",
        "cannot list s3://fuzz-bucket/app/: the store said the listing goes on (IsTruncated) but sent no continuation token")]
    [InlineData("<IsTruncated>true</IsTruncated><NextContinuationToken>t</NextContinuationToken>", "",
        "cannot list s3://fuzz-bucket/app/: the store sent continuation token 't' twice; the listing would never end")]
    public async Task A_listing_the_fuzzer_broke_the_fetch_with_is_one_line(string truncation, string contents, string message)
    {
        var server = new ListingServer(System.Text.Encoding.UTF8.GetBytes(Body(truncation, contents)));
        using var dir = new TempDir();
        using var store = new ObjectStore(new ObjectStoreSettings(new Uri("http://127.0.0.1:9/"), "us-east-1", true, 2, null), Tuning, server);

        var error = await Assert.ThrowsAsync<ObjectStoreException>(() =>
            store.DownloadPrefixAsync(ObjectUrl.Parse("s3://fuzz-bucket/app/"), dir["target"], Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, server.Looping.Token));

        Assert.Equal(message, error.Message);
        Assert.InRange(server.Pages, 1, 2);
    }

    [Fact]
    public async Task An_XML_error_naming_a_control_character_is_one_line()
    {
        // XmlException quotes the offending character itself.
        var server = new ListingServer(System.Text.Encoding.UTF8.GetBytes(Body("", Object("app/\u0018", "1"))));
        using var store = new ObjectStore(new ObjectStoreSettings(new Uri("http://127.0.0.1:9/"), "us-east-1", true, 2, null), Tuning, server);

        var error = await Assert.ThrowsAsync<ObjectStoreException>(() =>
            store.DownloadPrefixAsync(ObjectUrl.Parse("s3://fuzz-bucket/app/"), "/nonexistent/target", Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None));

        Assert.StartsWith(@"cannot list s3://fuzz-bucket/app/: '\x18', hexadecimal value 0x18, is an invalid character.", error.Message);
    }
}
