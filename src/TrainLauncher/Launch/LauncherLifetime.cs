using Microsoft.Extensions.Hosting;
using TrainLauncher.Supervision;

namespace TrainLauncher.Launch;

/// <summary>
/// The host's lifetime does nothing on its own. The default (ConsoleLifetime) would turn SIGTERM
/// and SIGINT into a stop of the host, so the launcher would end while the command still runs;
/// here signals belong to the <see cref="SignalHub"/>, which forwards them to the command first,
/// and the host stops only when the launch has finished (<see cref="LaunchService"/>).
/// </summary>
internal sealed class LauncherLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
