using Microsoft.Extensions.Logging;
using TrainLauncher.Launch;
using TrainLauncher.Reporting;
using TrainLauncher.Tools;

namespace TrainLauncher.Secrets;

/// <summary>
/// SPEC 5: DLS_AES__NAME → NAME. With a key file, one dls-decryptor call per variable; else with
/// a key endpoint, one dls-key-client call, ciphertexts in on stdin and plaintexts out on stdout,
/// one per line. Plaintexts stay in memory; failures name the variables, never the values.
/// </summary>
internal sealed class SecretDecryptor(ToolRunner tools, ToolPaths paths)
{
    public const string Prefix = "DLS_AES__";

    public static IReadOnlyList<KeyValuePair<string, string>> Encrypted(IReadOnlyDictionary<string, string> env) =>
        env.Where(p => p.Key.StartsWith(Prefix, StringComparison.Ordinal))
           .OrderBy(p => p.Key, StringComparer.Ordinal).ToList();

    public DecryptionMethod Choose(IReadOnlyDictionary<string, string> env)
    {
        var encrypted = Encrypted(env);
        if (encrypted.Count == 0) return new DecryptionMethod.NothingToDecrypt();
        foreach (var (name, _) in encrypted)
        {
            if (name.Length == Prefix.Length || !IsVariableName(name[Prefix.Length..]))
                throw LaunchFailure.Setup($"{name}: '{name[Prefix.Length..]}' is not a valid variable name to decrypt into (letters, digits, '_')");
        }
        string names = string.Join(", ", encrypted.Select(p => p.Key));

        if (!string.IsNullOrEmpty(env.GetValueOrDefault("DLS_DECRYPTOR_KEY_FILE")))
        {
            string keyFile = env["DLS_DECRYPTOR_KEY_FILE"];
            var tool = tools.Find(paths.Decryptor)
                ?? throw LaunchFailure.Setup($"cannot decrypt {names}: {paths.Decryptor} not found (set --dls-decryptor or PATH)");
            if (!File.Exists(keyFile))
                throw LaunchFailure.Setup($"cannot decrypt {names}: DLS_DECRYPTOR_KEY_FILE '{keyFile}' does not exist");
            return new DecryptionMethod.KeyFile(tool, keyFile);
        }
        if (!string.IsNullOrEmpty(env.GetValueOrDefault("DLS_KEY_ENDPOINT")) && !string.IsNullOrEmpty(env.GetValueOrDefault("DLS_KEY_JOB_ID")))
        {
            var tool = tools.Find(paths.KeyClient)
                ?? throw LaunchFailure.Setup($"cannot decrypt {names}: {paths.KeyClient} not found (set --dls-key-client or PATH)");
            return new DecryptionMethod.KeyClient(tool);
        }
        return new DecryptionMethod.Unavailable();
    }

    /// <summary>Step 5: every DLS_AES__NAME into NAME in the command's environment. Without a way
    /// to decrypt, a warning and the variables are dropped (run_train.sh gave empty values).</summary>
    public async Task<SecretSet> DecryptIntoAsync(LaunchPlan plan, RunState state, ILogger log, CancellationToken cancellation)
    {
        switch (plan.Decryption)
        {
            case DecryptionMethod.NothingToDecrypt:
                return SecretSet.Empty;
            case DecryptionMethod.Unavailable:
                log.SecretsDropped(string.Join(", ", plan.Encrypted.Select(p => p.Key)));
                return SecretSet.Empty;
        }
        state.Phase = LaunchPhase.Decrypting;
        var secrets = await DecryptAsync(plan.Decryption, plan.Encrypted, cancellation);
        foreach (var (name, value) in secrets.Values) plan.Environment.SetSecret(name, value);
        return secrets;
    }

    public async Task<SecretSet> DecryptAsync(DecryptionMethod method, IReadOnlyList<KeyValuePair<string, string>> encrypted, CancellationToken cancellation)
    {
        var secrets = new SecretSet();
        switch (method)
        {
            case DecryptionMethod.KeyFile keyFile:
                foreach (var (name, cipher) in encrypted)
                {
                    var result = await tools.RunAsync(keyFile.Tool, [keyFile.KeyFilePath, cipher], cancellation);
                    if (!result.Succeeded)
                        throw LaunchFailure.Setup($"cannot decrypt {name}: dls-decryptor exited with status {result.ExitCode}{StderrHint(result)}");
                    secrets.Add(name[Prefix.Length..], TrimNewline(result.Stdout));
                }
                break;

            case DecryptionMethod.KeyClient keyClient:
            {
                string names = string.Join(", ", encrypted.Select(p => p.Key));
                var input = string.Concat(encrypted.Select(p => p.Value + "\n"));
                var result = await tools.RunAsync(keyClient.Tool, [], cancellation, stdin: input);
                if (!result.Succeeded)
                    throw LaunchFailure.Setup($"cannot decrypt {names}: dls-key-client exited with status {result.ExitCode}{StderrHint(result)}");
                var lines = TrimNewline(result.Stdout).Split('\n');
                if (result.Stdout.Length == 0 || lines.Length != encrypted.Count)
                    throw LaunchFailure.Setup($"cannot decrypt {names}: dls-key-client returned {(result.Stdout.Length == 0 ? 0 : lines.Length)} line(s) for {encrypted.Count} variable(s)");
                for (int i = 0; i < lines.Length; i++)
                    secrets.Add(encrypted[i].Key[Prefix.Length..], lines[i].TrimEnd('\r'));
                break;
            }
        }
        return secrets;
    }

    private static bool IsVariableName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static string TrimNewline(string text) => text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.TrimEnd('\n');

    // stderr of a decryption tool does not carry plaintexts by contract; stdout might, so it is never shown.
    private static string StderrHint(ToolResult result)
    {
        var first = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        return first is null ? "" : $" ({first})";
    }
}
