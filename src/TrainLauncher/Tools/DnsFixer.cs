using Microsoft.Extensions.Logging;
using TrainLauncher.Launch;
using TrainLauncher.Output;

namespace TrainLauncher.Tools;

/// <summary>Step 3: `dls-dns-fixer` when DLS_USE_DNS_TCP asks. A fixer that is missing or fails
/// is a warning, not a reason to stop: the job may well resolve names without it.</summary>
internal sealed class DnsFixer(ToolRunner tools, ILogger log)
{
    public async Task FixAsync(LaunchPlan plan, CancellationToken cancellation)
    {
        if (!plan.Settings.UseDnsTcp) return;
        if (plan.DnsFixer is null)
        {
            log.DnsFixerMissing(plan.Options.Tools.DnsFixer);
            return;
        }
        var result = await tools.RunAsync(plan.DnsFixer, [], cancellation);
        if (!result.Succeeded)
            log.DnsFixerFailed(result.ExitCode, OneLine.Escape(result.Output));
    }
}
