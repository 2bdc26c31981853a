using TrainLauncher.Output;

namespace TrainLauncher.Storage;

/// <summary>
/// A directory in an object store: <c>obs://bucket/prefix/</c> or <c>s3://bucket/prefix/</c>.
/// The prefix is always empty (bucket root) or ends with <c>/</c>, so <c>app</c> never
/// matches <c>app2/</c>.
/// </summary>
internal sealed record ObjectUrl(string Scheme, string Bucket, string Prefix)
{
    public static bool IsObjectUrl(string text) =>
        text.StartsWith("obs://", StringComparison.OrdinalIgnoreCase)
        || text.StartsWith("s3://", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses or throws <see cref="ObjectStoreException"/> with one clear line.</summary>
    public static ObjectUrl Parse(string text)
    {
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        var scheme = schemeEnd < 0 ? "" : text[..schemeEnd].ToLowerInvariant();
        if (scheme is not ("obs" or "s3"))
            throw Bad(text, "expected obs://bucket/prefix/ or s3://bucket/prefix/");

        var rest = text[(schemeEnd + 3)..];
        var slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..];
        if (bucket.Length == 0)
            throw Bad(text, "missing bucket name");
        if (!IsValidBucket(bucket))
            throw Bad(text, $"bad bucket name '{OneLine.Escape(bucket)}' (3-63 characters: a-z, 0-9, '.', '-'; starts and ends with a letter or digit)");
        if (prefix.Any(char.IsControl))
            throw Bad(text, "control characters in the object prefix");
        if (prefix.StartsWith('/') || prefix.Contains("//", StringComparison.Ordinal))
            throw Bad(text, "empty path segment in the object prefix");
        if (prefix.Split('/').Any(s => s is "." or ".."))
            throw Bad(text, "'.' or '..' segment in the object prefix");

        if (prefix.Length > 0 && !prefix.EndsWith('/'))
            prefix += "/";
        return new ObjectUrl(scheme, bucket, prefix);
    }

    /// <summary>The directory name a fetch creates (<c>obs://b/jobs/app/</c> → <c>app</c>), like <c>cp -a SRC ./</c>.</summary>
    public string LastSegment =>
        Prefix.Length == 0 ? Bucket : Prefix.TrimEnd('/')[(Prefix.TrimEnd('/').LastIndexOf('/') + 1)..];

    /// <summary>A sub-directory: <c>obs://b/logs/</c>.Child("dls-log-7") → <c>obs://b/logs/dls-log-7/</c>.</summary>
    public ObjectUrl Child(string relativeDirectory) =>
        Parse($"{Scheme}://{Bucket}/{Prefix}{relativeDirectory.Trim('/')}/");

    public override string ToString() => $"{Scheme}://{Bucket}/{Prefix}";

    private static bool IsValidBucket(string bucket) =>
        bucket.Length is >= 3 and <= 63
        && bucket.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-')
        && char.IsAsciiLetterOrDigit(bucket[0])
        && char.IsAsciiLetterOrDigit(bucket[^1]);

    private static ObjectStoreException Bad(string text, string why) =>
        new($"malformed object storage URL '{OneLine.Escape(text)}': {why}");
}
