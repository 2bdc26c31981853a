namespace TrainLauncher.Storage;

/// <summary>Access key pair; <see cref="ToString"/> never shows the secret.</summary>
internal sealed record StorageCredentials(string AccessKeyId, string SecretAccessKey, string? SessionToken, string Source)
{
    /// <summary>First four characters of the key id, the rest hidden (key ids are not secret, but long-lived).</summary>
    public string MaskedKeyId =>
        AccessKeyId.Length >= 8 ? AccessKeyId[..4] + new string('*', AccessKeyId.Length - 4) : new string('*', AccessKeyId.Length);

    public override string ToString() => $"{MaskedKeyId} from {Source}";
}
