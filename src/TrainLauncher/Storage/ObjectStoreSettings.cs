using System.Globalization;
using System.Net;
using TrainLauncher.Output;

namespace TrainLauncher.Storage;

/// <summary>
/// Where and how the built-in client talks to OBS or any S3 store (SPEC section 7). Built once,
/// validated once; <see cref="Describe"/> is for the plan and never contains the secret key.
/// </summary>
internal sealed record ObjectStoreSettings(
    Uri Endpoint,
    string Region,
    bool PathStyle,
    int Transfers,
    StorageCredentials? Credentials)
{
    public const int DefaultTransfers = 16;
    public const string DefaultRegion = "us-east-1";

    /// <summary>
    /// Resolves the settings from the command's environment (after secret decryption, so
    /// decrypted keys count) and the launcher's option values (null when not given).
    /// Throws <see cref="ObjectStoreException"/> with one clear line.
    /// </summary>
    public static ObjectStoreSettings Resolve(
        IReadOnlyDictionary<string, string> environment,
        string? endpointOption = null,
        string? regionOption = null,
        bool pathStyleOption = false,
        string? transfersOption = null)
    {
        string? Env(string name) =>
            environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

        var endpoint = ParseEndpoint(
            NonEmpty(endpointOption) is { } fromOption ? ("--obs-endpoint", fromOption)
            : Env("OBS_ENDPOINT") is { } obs ? ("OBS_ENDPOINT", obs)
            : Env("S3_ENDPOINT") is { } s3 ? ("S3_ENDPOINT", s3)
            : throw new ObjectStoreException(
                "no object storage endpoint: set --obs-endpoint, OBS_ENDPOINT or S3_ENDPOINT (e.g. https://obs.cn-north-4.myhuaweicloud.com)"),
            ParseUseHttps(Env("S3_USE_HTTPS")));

        var region = ParseRegion(
            NonEmpty(regionOption) is { } r ? ("--region", r)
            : Env("AWS_REGION") is { } awsRegion ? ("AWS_REGION", awsRegion)
            : Env("AWS_DEFAULT_REGION") is { } awsDefault ? ("AWS_DEFAULT_REGION", awsDefault)
            : ("", RegionFromObsHost(endpoint.Host) ?? DefaultRegion));

        return new ObjectStoreSettings(
            endpoint,
            region,
            pathStyleOption || IsLocalOrIpHost(endpoint),
            ParseTransfers(transfersOption),
            ReadCredentials(Env));
    }

    /// <summary>One line for the plan: no secret key, the key id masked.</summary>
    public string Describe() =>
        $"endpoint {Endpoint.GetLeftPart(UriPartial.Authority)}, region {Region}, "
        + $"{(PathStyle ? "path-style" : "virtual-host")} addressing, {Transfers} transfers, "
        + $"credentials {(Credentials is null ? "none (anonymous)" : Credentials.ToString())}";

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static bool ParseUseHttps(string? value) => value?.ToLowerInvariant() switch
    {
        null or "1" or "true" or "yes" => true,
        "0" or "false" or "no" => false,
        _ => throw new ObjectStoreException($"S3_USE_HTTPS must be 0 or 1, got '{OneLine.Escape(value)}'"),
    };

    private static Uri ParseEndpoint((string Source, string Value) given, bool useHttps)
    {
        // A scheme in the endpoint wins over S3_USE_HTTPS; "host:port" alone has none.
        var text = given.Value.Contains("://", StringComparison.Ordinal)
            ? given.Value
            : (useHttps ? "https://" : "http://") + given.Value;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https")
            || uri.Host.Length == 0
            || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0
            || uri.UserInfo.Length > 0)
        {
            throw new ObjectStoreException(
                $"{given.Source} is not an endpoint URL: '{OneLine.Escape(given.Value)}' (expected http(s)://host[:port], e.g. https://obs.cn-north-4.myhuaweicloud.com)");
        }
        return new Uri(uri.GetLeftPart(UriPartial.Authority) + "/");
    }

    private static string ParseRegion((string Source, string Value) given)
    {
        if (given.Value.Length > 64 || !given.Value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            throw new ObjectStoreException($"{given.Source} is not a region name: '{OneLine.Escape(given.Value)}' (expected e.g. cn-north-4)");
        return given.Value;
    }

    /// <summary>OBS endpoints name their region: <c>obs.cn-north-4.myhuaweicloud.com</c> → <c>cn-north-4</c>.</summary>
    private static string? RegionFromObsHost(string host)
    {
        var parts = host.Split('.');
        return parts.Length >= 4 && parts[0] == "obs" && host.EndsWith(".myhuaweicloud.com", StringComparison.OrdinalIgnoreCase)
            ? parts[1].ToLowerInvariant()
            : null;
    }

    private static bool IsLocalOrIpHost(Uri endpoint) =>
        endpoint.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6
        || endpoint.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || IPAddress.TryParse(endpoint.Host, out _);

    private static int ParseTransfers(string? value)
    {
        if (NonEmpty(value) is not { } text)
            return DefaultTransfers;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var transfers) || transfers is < 1 or > 256)
            throw new ObjectStoreException($"--transfers must be a whole number from 1 to 256, got '{OneLine.Escape(value)}'");
        return transfers;
    }

    private static StorageCredentials? ReadCredentials(Func<string, string?> env)
    {
        foreach (var (idName, secretName, tokenName) in new[]
                 {
                     ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"),
                     ("S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_SESSION_TOKEN"),
                 })
        {
            var (id, secret) = (env(idName), env(secretName));
            if (id is null && secret is null)
                continue;
            if (id is null || secret is null)
                throw new ObjectStoreException($"{(id is null ? secretName : idName)} is set but {(id is null ? idName : secretName)} is not");
            return new StorageCredentials(id, secret, env(tokenName), idName);
        }
        return null;
    }
}
