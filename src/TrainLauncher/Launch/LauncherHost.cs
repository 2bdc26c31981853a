using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TrainLauncher.Health;
using TrainLauncher.Output;
using TrainLauncher.Reporting;
using TrainLauncher.Supervision;

namespace TrainLauncher.Launch;

/// <summary>
/// The generic host as the launcher's lifetime. Hosted services start in the order they are
/// added and stop in reverse, which is the order a launch needs:
/// <code>
/// start: reaper → health endpoint → hang watchdog → checkpoint sync → launch
/// stop:  launch → checkpoint sync → hang watchdog → health endpoint → reaper
/// </code>
/// The job's own stop sequence (signal → grace → upload → summary) is the launch's
/// (<see cref="LaunchPipeline.RunAsync"/>), so /health and /status answer through the upload
/// and the reaper outlives every child. No configuration providers and no console lifetime:
/// settings are parsed once (<see cref="OptionParser"/>), and signals belong to the
/// <see cref="SignalHub"/>. The launcher's objects are composed here by hand and handed to the
/// container as instances and factories: on NativeAOT the container's reflection and runtime
/// generic types were a fifth of the CPU of `trainlauncher true` (perf, README "Performance").
/// </summary>
internal static class LauncherHost
{
    public static IHost Build(LaunchOptions options, IReadOnlyDictionary<string, string> environment, SignalHub signals,
        ILoggerFactory loggers, ILogger log)
    {
        var state = new RunState();
        var outcome = new LaunchOutcome();
        var checkpoints = new Data.CheckpointSync(state, log);
        var pipeline = new LaunchPipeline(options, environment, log, ConsoleGate.Stdout, signals, state,
            new RunEnd(options, state, log, outcome), checkpoints);

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var services = builder.Services;
        services.AddSingleton(loggers);
        services.AddSingleton<IHostLifetime>(new LauncherLifetime());
        services.AddSingleton(outcome);
        // Closed instances for what the host would otherwise build from open generics (IOptions<>,
        // the options validator's graph): on NativeAOT each is a runtime type build, together
        // ~4 ms of `trainlauncher true`. Default host options; no options here to validate on start.
        services.AddSingleton<IOptions<HostOptions>>(Options.Create(new HostOptions()));
        services.AddSingleton<IStartupValidator>(new NothingToValidate());

        services.AddHostedService(_ => new OrphanReaperService());
        services.AddHostedService(_ => new HealthEndpoint(options, state, log));
        services.AddHostedService(_ => new Watchdog.HangWatchdog(options, state, log));
        // The checkpoint sync: driven by the launch (restore before the command, last pass after
        // it, before the upload — see LaunchPipeline); stopped by the host after the launch, so a
        // launch that ended another way still gets its last pass.
        services.AddHostedService(_ => checkpoints);
        services.AddHostedService(provider => new LaunchService(pipeline, outcome, options, log,
            provider.GetRequiredService<IHostApplicationLifetime>()));
        return builder.Build();
    }

    private sealed class NothingToValidate : IStartupValidator
    {
        public void Validate() { }
    }
}
