using Microsoft.Extensions.Logging;

namespace TrainLauncher.Secrets;

/// <summary>Decryption (ids 900–999). Names of variables only, never values.</summary>
internal static partial class SecretEvents
{
    [LoggerMessage(901, LogLevel.Warning, "{Variables} dropped: no DLS_DECRYPTOR_KEY_FILE and no DLS_KEY_ENDPOINT with DLS_KEY_JOB_ID to decrypt them")]
    public static partial void SecretsDropped(this ILogger log, string variables);
}
