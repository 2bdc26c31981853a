using TrainLauncher.Storage;

namespace TrainLauncher.Tests.Storage;

public class ObjectStoreSettingsSpecs
{
    private static ObjectStoreSettings Resolve(
        Dictionary<string, string> env, string? endpoint = null, string? region = null, bool pathStyle = false, string? transfers = null) =>
        ObjectStoreSettings.Resolve(env, endpoint, region, pathStyle, transfers);

    [Fact]
    public void Endpoint_option_wins_over_OBS_ENDPOINT_which_wins_over_S3_ENDPOINT()
    {
        var env = new Dictionary<string, string> { ["OBS_ENDPOINT"] = "obs.example.com", ["S3_ENDPOINT"] = "s3.example.com" };

        Assert.Equal("https://option.example.com/", Resolve(env, endpoint: "option.example.com").Endpoint.ToString());
        Assert.Equal("https://obs.example.com/", Resolve(env).Endpoint.ToString());
        env.Remove("OBS_ENDPOINT");
        Assert.Equal("https://s3.example.com/", Resolve(env).Endpoint.ToString());
    }

    [Fact]
    public void S3_USE_HTTPS_0_means_http_unless_the_endpoint_names_its_scheme()
    {
        var env = new Dictionary<string, string> { ["S3_ENDPOINT"] = "minio:9000", ["S3_USE_HTTPS"] = "0" };

        Assert.Equal("http://minio:9000/", Resolve(env).Endpoint.ToString());
        env["S3_ENDPOINT"] = "https://minio:9000";
        Assert.Equal("https://minio:9000/", Resolve(env).Endpoint.ToString());
    }

    [Theory]
    [InlineData("http://127.0.0.1:9000", true)]
    [InlineData("http://localhost:9000", true)]
    [InlineData("http://[::1]:9000", true)]
    [InlineData("https://obs.cn-north-4.myhuaweicloud.com", false)]
    public void Path_style_is_automatic_for_ip_and_localhost_endpoints(string endpoint, bool pathStyle)
    {
        var env = new Dictionary<string, string> { ["OBS_ENDPOINT"] = endpoint };

        Assert.Equal(pathStyle, Resolve(env).PathStyle);
        Assert.True(Resolve(env, pathStyle: true).PathStyle);
    }

    [Fact]
    public void Region_comes_from_the_option_then_the_OBS_host_then_the_default()
    {
        var env = new Dictionary<string, string> { ["OBS_ENDPOINT"] = "https://obs.cn-north-4.myhuaweicloud.com" };

        Assert.Equal("ap-southeast-1", Resolve(env, region: "ap-southeast-1").Region);
        Assert.Equal("cn-north-4", Resolve(env).Region);
        env["OBS_ENDPOINT"] = "http://127.0.0.1:9000";
        Assert.Equal("us-east-1", Resolve(env).Region);
    }

    [Fact]
    public void Transfers_default_to_16_and_take_the_option()
    {
        var env = new Dictionary<string, string> { ["OBS_ENDPOINT"] = "http://127.0.0.1:1" };

        Assert.Equal(16, Resolve(env).Transfers);
        Assert.Equal(4, Resolve(env, transfers: "4").Transfers);
    }

    [Fact]
    public void Credentials_come_from_AWS_variables_first_then_S3_variables()
    {
        var env = new Dictionary<string, string>
        {
            ["OBS_ENDPOINT"] = "http://127.0.0.1:1",
            ["S3_ACCESS_KEY_ID"] = "S3KEYID1", ["S3_SECRET_ACCESS_KEY"] = "s3secret",
        };
        Assert.Equal(("S3KEYID1", "s3secret", "S3_ACCESS_KEY_ID"),
            (Resolve(env).Credentials!.AccessKeyId, Resolve(env).Credentials!.SecretAccessKey, Resolve(env).Credentials!.Source));

        env["AWS_ACCESS_KEY_ID"] = "AKIAEXAMPLE";
        env["AWS_SECRET_ACCESS_KEY"] = "awssecret";
        env["AWS_SESSION_TOKEN"] = "token";
        var credentials = Resolve(env).Credentials!;
        Assert.Equal(("AKIAEXAMPLE", "awssecret", "token"), (credentials.AccessKeyId, credentials.SecretAccessKey, credentials.SessionToken));
    }

    [Fact]
    public void Describe_shows_endpoint_region_and_style_but_never_the_secret()
    {
        var env = new Dictionary<string, string>
        {
            ["OBS_ENDPOINT"] = "https://obs.cn-north-4.myhuaweicloud.com",
            ["AWS_ACCESS_KEY_ID"] = "HPUAEXAMPLEKEY", ["AWS_SECRET_ACCESS_KEY"] = "very-secret-value",
        };

        var text = Resolve(env).Describe();

        Assert.Equal(
            "endpoint https://obs.cn-north-4.myhuaweicloud.com, region cn-north-4, virtual-host addressing, 16 transfers, credentials HPUA********** from AWS_ACCESS_KEY_ID",
            text);
        Assert.DoesNotContain("very-secret-value", text);
        Assert.DoesNotContain("very-secret-value", Resolve(env).Credentials!.ToString());
    }

    [Fact]
    public void No_credentials_means_anonymous()
    {
        var env = new Dictionary<string, string> { ["OBS_ENDPOINT"] = "http://127.0.0.1:1" };

        Assert.Null(Resolve(env).Credentials);
        Assert.Contains("credentials none (anonymous)", Resolve(env).Describe());
    }

    [Theory]
    [InlineData("OBS_ENDPOINT", "ftp://host", "OBS_ENDPOINT is not an endpoint URL: 'ftp://host'")]
    [InlineData("OBS_ENDPOINT", "http://host/some/path", "OBS_ENDPOINT is not an endpoint URL")]
    [InlineData("OBS_ENDPOINT", "http://", "OBS_ENDPOINT is not an endpoint URL")]
    [InlineData("S3_ENDPOINT", "http://user:pw@host", "S3_ENDPOINT is not an endpoint URL")]
    [InlineData("S3_USE_HTTPS", "maybe", "S3_USE_HTTPS must be 0 or 1, got 'maybe'")]
    [InlineData("AWS_REGION", "CN North", "AWS_REGION is not a region name: 'CN North'")]
    [InlineData("AWS_ACCESS_KEY_ID", "KEYONLY", "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")]
    [InlineData("S3_SECRET_ACCESS_KEY", "secretonly", "S3_SECRET_ACCESS_KEY is set but S3_ACCESS_KEY_ID is not")]
    public void Malformed_variables_fail_with_one_line_naming_the_variable(string name, string value, string expected)
    {
        var env = new Dictionary<string, string> { ["S3_ENDPOINT"] = "http://127.0.0.1:9000", [name] = value };

        var error = Assert.Throws<ObjectStoreException>(() => Resolve(env));

        Assert.StartsWith(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain("secretonly", error.Message);
    }

    [Theory]
    [InlineData(null, "no-such region", null, "--region is not a region name")]
    [InlineData("not a url", null, null, "--obs-endpoint is not an endpoint URL")]
    [InlineData(null, null, "lots", "--transfers must be a whole number from 1 to 256, got 'lots'")]
    [InlineData(null, null, "0", "--transfers must be a whole number")]
    [InlineData(null, null, "-3", "--transfers must be a whole number")]
    public void Malformed_options_fail_with_one_line_naming_the_option(string? endpoint, string? region, string? transfers, string expected)
    {
        var env = new Dictionary<string, string> { ["S3_ENDPOINT"] = "http://127.0.0.1:9000" };

        var error = Assert.Throws<ObjectStoreException>(() => Resolve(env, endpoint, region, transfers: transfers));

        Assert.StartsWith(expected, error.Message);
    }

    [Fact]
    public void A_missing_endpoint_says_how_to_set_one()
    {
        var error = Assert.Throws<ObjectStoreException>(() => Resolve([]));

        Assert.StartsWith("no object storage endpoint: set --obs-endpoint, OBS_ENDPOINT or S3_ENDPOINT", error.Message);
    }
}
