namespace TrainLauncher.Secrets;

/// <summary>Which tool decrypts the DLS_AES__ variables (SPEC 5), decided before anything runs.</summary>
internal abstract record DecryptionMethod
{
    public sealed record KeyFile(string Tool, string KeyFilePath) : DecryptionMethod;
    public sealed record KeyClient(string Tool) : DecryptionMethod;
    public sealed record Unavailable : DecryptionMethod;
    public sealed record NothingToDecrypt : DecryptionMethod;
}
