using System.Text;
using TrainLauncher.Code;
using TrainLauncher.Variables;
using TrainLauncher.Launch;
using TrainLauncher.Secrets;
using TrainLauncher.Storage;

namespace TrainLauncher.Plan;

/// <summary>`trainlauncher plan`: what a run would do, as text. Secret values are masked.</summary>
internal static class PlanPrinter
{
    public static string Render(LaunchPlan plan, SecretSet secrets, ObjectStoreSettings? storage)
    {
        var s = plan.Settings;
        var text = new StringBuilder();
        void Line(string label, string value) => text.Append(label.PadRight(14)).Append(value).Append('\n');

        text.Append("trainlauncher plan (nothing was changed)\n");
        Line("job dir:", $"{s.JobDir} (working directory{(Directory.Exists(s.JobDir) ? "" : ", created by the run")})");
        Line("log file:", s.LogFile.Length == 0 ? "(none)" : $"{s.LogFile} via {plan.PipeTool ?? "direct writes (dls-pipe not found)"}");
        Line("dns fix:", !s.UseDnsTcp ? "no" : plan.DnsFixer ?? "asked, but dls-dns-fixer not found (warning)");
        Line("decryption:", plan.Decryption switch
        {
            DecryptionMethod.KeyFile k => $"{k.Tool} with key file {k.KeyFilePath}, one call per variable",
            DecryptionMethod.KeyClient k => $"{k.Tool}, one call, ciphertexts on stdin",
            DecryptionMethod.Unavailable => "no key file or key endpoint: DLS_AES__ variables dropped (warning)",
            _ => "nothing to decrypt",
        });
        Line("fetch:", plan.Code switch
        {
            null => "nothing (DLS_APP_URL is empty)",
            CodeSource.LocalCopy c => $"copy {c.Path} -> {Path.Combine(s.JobDir, c.TargetName)}",
            CodeSource.Downloader d => $"{d.Tool} -r -s {d.Url} -d ./ -> {Path.Combine(s.JobDir, d.TargetName)}",
            CodeSource.ObjectStore o => $"built-in client {o.Url} -> {Path.Combine(s.JobDir, o.TargetName)}",
            _ => plan.Code.ToString()!,
        });
        Line("data:", plan.Data?.Describe() ?? (s.DataUrl is null ? "nothing (DLS_DATA_URL is empty)" : "not fetched (--data-dir off); DLS_DATA_URL is passed to the command"));
        Line("requirements:", plan.Requirements?.Describe() ?? (plan.Options.Requirements == "off" ? "no (--requirements off)" : "no (no code fetched)"));
        Line("checkpoints:", plan.Checkpoints?.Describe() ?? "no (--checkpoint-dir not set)");
        Line("log upload:", plan.UploadTool is not null ? $"{plan.UploadTool} -s {s.LogFile} -d {s.LogUploadDir}"
            : plan.BuiltinLogUpload is { } logUrl ? $"built-in client {s.LogFile} -> {logUrl}" : "no");
        if (plan.Workers is not null && (plan.UploadTool is not null || plan.BuiltinLogUpload is not null))
            Line("", "and each worker's log beside it, the same way");
        Line("output upload:", plan.OutputUpload is { } output ? $"built-in client {output.Dir}/ -> {output.Url} (after any end of the command)" : "no");
        if (storage is not null) Line("object store:", storage.Describe());
        foreach (var line in plan.Accelerators.Describe().Concat(plan.Cluster.Describe()).Concat(plan.RankTable.Describe())
            .Concat(plan.Workers?.Describe() ?? [])) text.Append(line).Append('\n');
        if (plan.Gpus is { } gpus) Line("--gpus:", $"{gpus.Variable}={gpus.Value}");
        Line("stdio:", plan.Stdbuf is null ? "as the command sets it" : $"line-buffered via {plan.Stdbuf}");
        Line("argv:", secrets.Mask(Quote(plan.Argv)));
        Line("stop grace:", $"{plan.Options.StopGraceSeconds:0.###} s, then SIGKILL to the process group"
            + (plan.Workers is null ? "" : "s; the first failing worker stops the others"));
        Line("hang watch:", plan.Options.NoOutputTimeoutSeconds <= 0 ? "off (--no-output-timeout 0)"
            : $"no output for {plan.Options.NoOutputTimeoutSeconds:0.###} s: "
              + (plan.Options.StopOnNoOutput ? "one warning, then the stop sequence (SIGTERM, grace, SIGKILL), status 124" : "one warning per silence"));

        text.Append("environment changes:\n");
        foreach (var (name, change) in plan.Environment.Changes.GroupBy(c => c.Name).Select(g => g.Last()))
        {
            string? value = plan.Environment.Get(name);
            text.Append(change switch
            {
                EnvChange.Removed => $"  - {name}\n",
                EnvChange.Secret => $"  + {name}={SecretSet.Masked} (decrypted)\n",
                _ => $"  + {name}={secrets.Mask(value ?? "")}\n",
            });
        }
        return text.ToString();
    }

    /// <summary>argv as a shell would need it typed, for display only.</summary>
    public static string Quote(IReadOnlyList<string> argv) =>
        string.Join(' ', argv.Select(a => a.Length > 0 && a.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,@%+".Contains(c))
            ? a
            : "'" + a.Replace("'", "'\\''") + "'"));
}
