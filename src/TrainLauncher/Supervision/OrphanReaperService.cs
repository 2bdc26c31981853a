using Microsoft.Extensions.Hosting;

namespace TrainLauncher.Supervision;

/// <summary>The <see cref="OrphanReaper"/> for the host's whole life: started before anything
/// can start a child, stopped last. Not in PID-1 mode: there <see cref="InitProcess"/> reaps.</summary>
internal sealed class OrphanReaperService : IHostedService, IDisposable
{
    private OrphanReaper? _reaper;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _reaper = OrphanReaper.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _reaper?.Dispose();
        _reaper = null;
    }
}
