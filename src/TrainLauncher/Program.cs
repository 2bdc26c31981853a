using System.Collections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog;
using TrainLauncher.Health;
using TrainLauncher.Launch;
using TrainLauncher.Logging;
using TrainLauncher.Output;
using TrainLauncher.Plan;
using TrainLauncher.Reporting;
using TrainLauncher.Supervision;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace TrainLauncher;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // First: until these handlers exist, a SIGTERM would kill the launcher outright.
        using var signals = new SignalHub();
        if (InitProcess.IsNeeded) return InitProcess.Run(args, signals);
        using var reaper = OrphanReaper.Start();
        var environment = ReadEnvironment();
        var console = ConsoleGate.Stdout;

        switch (args.FirstOrDefault())
        {
            case "--help" or "-h" or "help":
                console.WriteMessage(Usage());
                return 0;
            case "check-image":
                return Images.CheckImageCommand.Run(args[1..], Console.Out);
            case "--version":
                console.WriteMessage($"trainlauncher {typeof(Program).Assembly.GetName().Version?.ToString(3)}\n");
                return 0;
        }

        bool plan = args.FirstOrDefault() == "plan";
        LaunchOptions options;
        try
        {
            options = OptionParser.Parse(plan ? args[1..] : args, environment, plan);
        }
        catch (LaunchFailure failure)
        {
            console.WriteMessage($"{LauncherLogging.Prefix}error: {failure.Message}\n");
            // The options did not parse, so only the environment can name a termination log.
            TerminationLog.Write(environment.GetValueOrDefault(OptionParser.EnvName("termination-log")),
                TerminationMessage.Compose(failure.ExitCode, LaunchPhase.Starting, failure.Message, [], true, Secrets.SecretSet.Empty), _ => { });
            return failure.ExitCode;
        }

        Log.Logger = LauncherLogging.Create(options.LogLevel, options.LogFormat, console);
        try
        {
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Services.AddSerilog(Log.Logger, dispose: false);
            builder.Services.AddSingleton<IHostLifetime, LauncherLifetime>();
            builder.Services.AddSingleton(options);
            builder.Services.AddSingleton<IReadOnlyDictionary<string, string>>(environment);
            builder.Services.AddSingleton(console);
            builder.Services.AddSingleton(signals);
            builder.Services.AddSingleton<RunState>();
            builder.Services.AddSingleton(Log.Logger);
            builder.Services.AddSingleton<LaunchPipeline>();
            builder.Services.AddHostedService<HealthEndpoint>();

            using var host = builder.Build();
            await host.StartAsync();
            int status = await host.Services.GetRequiredService<LaunchPipeline>().RunAsync();
            await host.StopAsync();
            return status;
        }
        catch (Exception e)
        {
            Log.Error("internal error: {Message}", e.ToString().ReplaceLineEndings(" | "));
            // Only the type: an exception's text could hold a value the secret mask never saw.
            TerminationLog.Write(options.TerminationLog, $"exit status {ExitCodes.LauncherFailure}: internal error ({e.GetType().Name}); see the launcher's output\n", _ => { });
            return ExitCodes.LauncherFailure;
        }
        finally
        {
            await Log.CloseAndFlushAsync();
        }
    }

    private static Dictionary<string, string> ReadEnvironment()
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
            variables[(string)entry.Key] = (string?)entry.Value ?? "";
        return variables;
    }

    private static string Usage() => $"""
        usage: trainlauncher [OPTIONS] [--] COMMAND [ARG...]
               trainlauncher plan [OPTIONS] [--] COMMAND [ARG...]
               trainlauncher check-image IMAGE.tar [--base BASE.tar | --base-layers N] [--home DIR] [--batch]
               trainlauncher --help | --version
        Runs COMMAND as a ModelArts training job (the run_train.sh flow) and exits with its status.
        Options (each also as the environment variable in brackets):
        {OptionParser.Help()}

        """;
}

/// <summary>
/// The host's lifetime does nothing on its own: signals belong to the <see cref="SignalHub"/>,
/// which forwards them to the command instead of stopping the launcher.
/// </summary>
internal sealed class LauncherLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
