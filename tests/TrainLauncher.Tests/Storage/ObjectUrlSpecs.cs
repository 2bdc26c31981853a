using TrainLauncher.Storage;

namespace TrainLauncher.Tests.Storage;

public class ObjectUrlSpecs
{
    [Theory]
    [InlineData("obs://bucket/jobs/app/", "obs", "bucket", "jobs/app/", "app")]
    [InlineData("s3://my.bucket-1/jobs/app", "s3", "my.bucket-1", "jobs/app/", "app")]
    [InlineData("OBS://bucket", "obs", "bucket", "", "bucket")]
    [InlineData("obs://bucket/", "obs", "bucket", "", "bucket")]
    [InlineData("obs://bucket/a b/ü/", "obs", "bucket", "a b/ü/", "ü")]
    public void Parses_bucket_and_directory_prefix(string text, string scheme, string bucket, string prefix, string last)
    {
        var url = ObjectUrl.Parse(text);

        Assert.Equal((scheme, bucket, prefix), (url.Scheme, url.Bucket, url.Prefix));
        Assert.Equal(last, url.LastSegment);
        Assert.Equal($"{scheme}://{bucket}/{prefix}", url.ToString());
    }

    [Theory]
    [InlineData("http://bucket/app/", "expected obs://bucket/prefix/")]
    [InlineData("bucket/app/", "expected obs://bucket/prefix/")]
    [InlineData("obs:///app/", "missing bucket name")]
    [InlineData("obs://", "missing bucket name")]
    [InlineData("obs://Bucket_1/app/", "bad bucket name 'Bucket_1'")]
    [InlineData("obs://ab/app/", "bad bucket name 'ab'")]
    [InlineData("obs://-bucket/app/", "bad bucket name '-bucket'")]
    [InlineData("obs://bucket/a/../b/", "'..' segment")]
    [InlineData("obs://bucket//a/", "empty path segment")]
    [InlineData("obs://bucket/a\nb/", "control characters")]
    public void Malformed_urls_fail_with_one_line_naming_the_problem(string text, string reason)
    {
        var error = Assert.Throws<ObjectStoreException>(() => ObjectUrl.Parse(text));

        Assert.StartsWith("malformed object storage URL", error.Message);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Child_appends_a_directory()
    {
        var logs = ObjectUrl.Parse("obs://bucket/logs").Child("dls-log-42");

        Assert.Equal("obs://bucket/logs/dls-log-42/", logs.ToString());
    }

    [Theory]
    [InlineData("obs://b/x", true)]
    [InlineData("S3://b/x", true)]
    [InlineData("/home/work/app", false)]
    [InlineData("file:///home/work/app", false)]
    public void Recognises_object_urls(string text, bool expected) =>
        Assert.Equal(expected, ObjectUrl.IsObjectUrl(text));
}
