using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;
using TrainLauncher.Health;
using TrainLauncher.Output;
using TrainLauncher.Reporting;
using TrainLauncher.Supervision;

namespace TrainLauncher.Launch;

/// <summary>
/// The generic host as the launcher's lifetime. Hosted services start in the order they are
/// added and stop in reverse, which is the order a launch needs:
/// <code>
/// start: reaper → health endpoint → [checkpoint sync, issue 15] → launch
/// stop:  launch → [checkpoint sync] → health endpoint → reaper
/// </code>
/// The stop sequence of the job itself (signal → grace → upload → summary) is the launch's own
/// (<see cref="LaunchPipeline.RunAsync"/>), so /health and /status answer through the upload and
/// the reaper outlives every child. No configuration providers, no console lifetime: settings
/// are parsed once by <see cref="OptionParser"/>, and signals belong to the <see cref="SignalHub"/>.
/// </summary>
internal static class LauncherHost
{
    public static IHost Build(LaunchOptions options, IReadOnlyDictionary<string, string> environment, SignalHub signals,
        Serilog.ILogger serilog, Microsoft.Extensions.Logging.ILogger log)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var services = builder.Services;
        services.AddSerilog(serilog, dispose: false);
        services.AddSingleton<IHostLifetime, LauncherLifetime>();
        services.AddSingleton(options);
        services.AddSingleton(environment);
        services.AddSingleton(ConsoleGate.Stdout);
        services.AddSingleton(signals);
        services.AddSingleton(log);
        services.AddSingleton<RunState>();
        services.AddSingleton<LaunchOutcome>();
        services.AddSingleton<RunEnd>();
        services.AddSingleton<LaunchPipeline>();

        services.AddHostedService<OrphanReaperService>();
        services.AddHostedService<HealthEndpoint>();
        // Issue 15's checkpoint sync goes here: started before the command, and stopped (its last
        // pass) by the launch after the command and before the upload — see LaunchPipeline.
        services.AddHostedService<LaunchService>();
        return builder.Build();
    }
}
