using Microsoft.Extensions.Logging;
using TrainLauncher.Code;
using TrainLauncher.Launch;
using TrainLauncher.Output;
using TrainLauncher.Reporting;
using TrainLauncher.Storage;
using TrainLauncher.Tools;

namespace TrainLauncher.Data;

/// <summary>
/// DLS_DATA_URL into --data-dir before the command, by the code fetch's own rules
/// (<see cref="CodeFetcher.FetchAsync"/>): a staging dir beside the target, renamed into place
/// only when complete; keys that would land outside it are skipped. A failure is 127, as the
/// code's (SPEC 10: a fetch failed, the command was not run), with one line saying why.
/// </summary>
internal sealed class InputDataFetcher(ToolRunner tools, ConsoleGate console, ObjectStore? store, ILogger log)
{
    public async Task FetchAsync(LaunchPlan plan, RunState state, CancellationToken cancellation)
    {
        if (plan.Data is not { } data) return;
        state.Phase = LaunchPhase.Fetching;
        log.DataFetchStarted(OneLine.Escape(plan.Settings.DataUrl!), OneLine.Escape(data.Dir));
        try
        {
            string parent = Path.GetDirectoryName(data.Dir)!;
            Directory.CreateDirectory(parent);
            var fetched = await new CodeFetcher(tools, console, store, log).FetchAsync(data.Source, parent, cancellation);
            state.Report.FilesData = fetched?.Files;
            state.Report.BytesData = fetched?.Bytes;
        }
        catch (Exception e) when (e is FetchFailure or IOException or UnauthorizedAccessException)
        {
            string why = e is FetchFailure failure ? failure.Output : LocalFileException.From(e).Message;
            throw new LaunchFailure(ExitCodes.FetchFailed, $"the data fetch failed (DLS_DATA_URL into {OneLine.Escape(data.Dir)}): {why}; the command was not run");
        }
    }
}
