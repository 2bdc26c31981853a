using System.Text;
using CliWrap;
using Microsoft.Extensions.Logging;
using TrainLauncher.Launch;
using TrainLauncher.Output;
using TrainLauncher.Reporting;
using TrainLauncher.Tools;

namespace TrainLauncher.Data;

/// <summary>
/// After the fetch, before the command (issue 15): `python3 -m pip install --user -r FILE` in the
/// job dir with the command's environment (PIP_INDEX_URL, PIP_FIND_LINKS, ... and decrypted
/// values count), its output shown as it comes and kept in the job log. A failure is 125 with one
/// line naming the file and pip's last error line. The image owns its python, as in SageMaker's
/// toolkit: on a PEP 668 "externally managed" python (Debian 12's) the install goes ahead with
/// PIP_BREAK_SYSTEM_PACKAGES=1 and one line saying so, unless the job set that variable itself.
/// In a virtualenv `--user` is left out: pip refuses it there, and the venv is the job's own.
/// </summary>
internal sealed class RequirementsInstaller(ToolRunner tools, ConsoleGate console, RunState state, ILogger log)
{
    /// <summary>Kept for the log and the error line; pip's output beyond this is shown, not kept.</summary>
    private const int KeptChars = 1 << 20;

    private const string Probe =
        "import os, sys, sysconfig; print(int(sys.prefix != sys.base_prefix), int(os.path.exists(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED'))))";

    public async Task InstallAsync(LaunchPlan plan, JobLog jobLog, CancellationToken cancellation)
    {
        if (plan.Requirements?.Locate() is not { } file) return;
        if (!File.Exists(file))
            throw LaunchFailure.Setup($"--requirements {OneLine.Escape(file)}: no such file");
        string python = tools.Find("python3")
            ?? throw LaunchFailure.Setup($"cannot install {OneLine.Escape(file)}: python3 was not found on PATH (use --requirements off)");
        state.Phase = LaunchPhase.Installing;
        log.RequirementsInstalling(OneLine.Escape(file));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var environment = new Dictionary<string, string>(plan.Environment.Variables, StringComparer.Ordinal);
        var probe = await tools.RunAsync(python, ["-c", Probe], cancellation, childEnvironment: environment);
        bool inVenv = probe.Stdout.StartsWith('1');
        if (probe.Stdout.Trim().EndsWith('1') && !environment.ContainsKey("PIP_BREAK_SYSTEM_PACKAGES"))
        {
            environment["PIP_BREAK_SYSTEM_PACKAGES"] = "1";
            log.ExternallyManaged();
        }

        var kept = new StringBuilder();
        var shown = PipeTarget.ToDelegate(line =>
        {
            console.WriteCommandOutput(Encoding.UTF8.GetBytes(line + "\n"));
            lock (kept) if (kept.Length < KeptChars) kept.Append(line).Append('\n');
        });
        ToolResult result;
        console.BeginCommandOutput();
        try
        {
            result = await tools.RunAsync(python, ["-m", "pip", "install", .. inVenv ? Array.Empty<string>() : ["--user"], "-r", file],
                cancellation, workingDirectory: plan.Settings.JobDir, alsoOutputTo: shown, childEnvironment: environment);
        }
        finally
        {
            console.EndCommandOutput();
        }
        string output;
        lock (kept) output = kept.ToString();
        await jobLog.AppendAsync(output, log);
        if (!result.Succeeded)
            throw LaunchFailure.Setup($"cannot install {OneLine.Escape(file)}: pip exited with status {result.ExitCode}: {OneLine.Escape(LastError(output))}");
        log.RequirementsInstalled(OneLine.Escape(file), clock.Elapsed.TotalSeconds);
    }

    /// <summary>pip's last `ERROR:` line (`error:` for PEP 668's refusal), else its last line.</summary>
    public static string LastError(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.LastOrDefault(l => l.StartsWith("error:", StringComparison.OrdinalIgnoreCase)) ?? lines.LastOrDefault() ?? "(no output)";
    }
}
