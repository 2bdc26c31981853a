using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TrainLauncher.Reporting;

namespace TrainLauncher.Launch;

/// <summary>
/// The host's main work: one launch, start to finish (<see cref="LaunchPipeline"/>), then the
/// host is told to stop. The status goes into <see cref="LaunchOutcome"/>, never into an
/// exception: an exception here still ends with 125, the `internal error` line and the
/// termination message. The host's stopping token is not ours to obey: stop signals reach the
/// command through the SignalHub, and the launch ends when the command has.
/// </summary>
internal sealed class LaunchService(LaunchPipeline pipeline, LaunchOutcome outcome, LaunchOptions options, ILogger log,
    IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await pipeline.RunAsync();
        }
        catch (Exception e)
        {
            outcome.Record(RunEnd.InternalError(log, options.TerminationLog, e), outcome.EndedIn, "internal error");
        }
        finally
        {
            lifetime.StopApplication();
        }
    }
}
