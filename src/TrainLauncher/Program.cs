using System.Collections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Serilog;
using TrainLauncher.Launch;
using TrainLauncher.Logging;
using TrainLauncher.Output;
using TrainLauncher.Reporting;
using TrainLauncher.Supervision;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace TrainLauncher;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // Every child starts through this binary: in that mode nothing else of the launcher runs.
        if (ExecTrampoline.IsRequested(args)) return ExecTrampoline.Run(args);
        // Then the signals: until they are blocked, a SIGTERM would kill the launcher outright.
        bool init = InitProcess.IsNeeded;
        using var signals = new SignalHub(followJobControl: !init);
        CoreDumps.Disable();
        if (init) return InitProcess.Run(args, signals);

        switch (args.FirstOrDefault())
        {
            case "--help" or "-h" or "help":
                ConsoleGate.Stdout.WriteMessage(OptionParser.Usage());
                return 0;
            case "--version":
                ConsoleGate.Stdout.WriteMessage($"trainlauncher {typeof(Program).Assembly.GetName().Version?.ToString(3)}\n");
                return 0;
            case "check-image":
                return Images.CheckImageCommand.Run(args[1..], Console.Out);
        }

        var environment = ReadEnvironment();
        if (ParseOptions(args, environment) is not { } options) return ExitCodes.LauncherFailure;

        Log.Logger = LauncherLogging.Create(options.LogLevel, options.LogFormat, ConsoleGate.Stdout);
        using var loggers = LauncherLogging.Provider(Log.Logger);
        var log = loggers.CreateLogger(LauncherLogging.Category);
        try
        {
            using var host = LauncherHost.Build(options, environment, signals, loggers, log);
            var outcome = host.Services.GetRequiredService<LaunchOutcome>();
            await host.RunAsync();
            return outcome.ExitStatus;
        }
        catch (Exception e)
        {
            return RunEnd.InternalError(log, options.TerminationLog, e);
        }
        finally
        {
            await Log.CloseAndFlushAsync();
        }
    }

    /// <summary>Null after the one 125 line: a bad option or TRAINLAUNCHER_* value, or no command.</summary>
    private static LaunchOptions? ParseOptions(string[] args, IReadOnlyDictionary<string, string> environment)
    {
        bool plan = args.FirstOrDefault() == "plan";
        try
        {
            return OptionParser.Parse(plan ? args[1..] : args, environment, plan);
        }
        catch (LaunchFailure failure)
        {
            // No logger yet (--log-format is one of the options): the line goes out as text.
            ConsoleGate.Stdout.WriteMessage($"{LauncherLogging.Prefix}error: {failure.Message}\n");
            // The options did not parse, so only the environment can name a termination log.
            TerminationLog.Write(environment.GetValueOrDefault(OptionParser.EnvName("termination-log")),
                TerminationMessage.Compose(failure.ExitCode, LaunchPhase.Starting, failure.Message, [], true, Secrets.SecretSet.Empty), NullLogger.Instance);
            return null;
        }
    }

    private static Dictionary<string, string> ReadEnvironment()
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
            variables[(string)entry.Key] = (string?)entry.Value ?? "";
        return variables;
    }
}
