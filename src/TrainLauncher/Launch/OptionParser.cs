using System.Globalization;
using TrainLauncher.Output;

namespace TrainLauncher.Launch;

/// <summary>
/// Reads launcher options from the command line and TRAINLAUNCHER_* variables
/// (command line &gt; environment &gt; default), by hand: reflection-based binding does not
/// survive NativeAOT trimming. Options count only before the first word that does not start
/// with '-' or before "--"; everything after is the user's argv, untouched.
/// </summary>
internal static class OptionParser
{
    private sealed record Spec(string Name, bool IsFlag, string Help, Func<LaunchOptions, string, string, LaunchOptions> Apply);

    private static readonly Spec[] Specs =
    [
        new("shell", true, "run the command through /bin/sh -c \"ARGS\" (for shell syntax)",
            (o, v, s) => o with { Shell = Flag(v, s) }),
        new("no-stdbuf", true, "do not line-buffer the command's C stdio with stdbuf",
            (o, v, s) => o with { NoStdbuf = Flag(v, s) }),
        new("log-file", false, "job log path (default /tmp/dls-task-INDEX.log; empty: none)",
            (o, v, s) => o with { LogFile = v }),
        new("log-level", false, "launcher messages: debug|info|warning|error",
            (o, v, s) => o with { LogLevel = Level(v, s) }),
        new("log-format", false, "launcher messages: text|json",
            (o, v, s) => o with { LogFormat = Format(v, s) }),
        new("stop-grace", false, "seconds between a stop signal and SIGKILL (default 20)",
            (o, v, s) => o with { StopGraceSeconds = Seconds(v, s) }),
        new("health-port", false, "port of GET /health and /status (default 8080; 0: off)",
            (o, v, s) => o with { HealthPort = Port(v, s) }),
        new("health-bind", false, "address the health endpoint listens on (default 0.0.0.0)",
            (o, v, s) => o with { HealthBind = Address(v, s) }),
        new("termination-log", false, "file for the exit reason (default /dev/termination-log when it exists; empty: none)",
            (o, v, s) => o with { TerminationLog = v }),
        new("gpus", false, "restrict the command to these indexes of the visible accelerators, e.g. 0,2",
            (o, v, s) => o with { Gpus = v.Length > 0 ? v : throw LaunchFailure.Setup($"{s} needs a list of device indexes like 0,2") }),
        new("tf-port", false, "TF_CONFIG port for hosts listed without one (default 2222)",
            (o, v, s) => o with { TfPort = NonZeroPort(v, s) }),
        new("rank-table", false, "auto: write an HCCL rank table for a multi-node Ascend job without RANK_TABLE_FILE; off: never (default auto)",
            (o, v, s) => o with { RankTable = RankTableChoice(v, s) }),
        new("per-device", true, "one worker per visible accelerator, each with its own device (--per-device or =own) or all of them (=shared); off: one command (default)",
            (o, v, s) => o with { PerDevice = PerDeviceChoice(v, s) }),
        new("worker-prefix", true, "prefix each worker's output lines with \"[rank N] \" (default: on for more than one worker)",
            (o, v, s) => o with { WorkerPrefix = Flag(v, s) }),
        new("wait-hosts", false, "seconds to wait for the master's name to resolve (default 600)",
            (o, v, s) => o with { WaitHostsSeconds = Seconds(v, s) }),
        new("device-dir", false, "where /dev/nvidiaN and /dev/davinciN are counted (default /dev)",
            (o, v, s) => o with { DeviceDir = v.Length > 0 ? v : throw LaunchFailure.Setup($"{s} must be a directory, got an empty value") }),
        new("obs-endpoint", false, "OBS/S3 endpoint for the built-in client (else OBS_ENDPOINT, S3_ENDPOINT)",
            (o, v, s) => o with { ObsEndpoint = v }),
        new("region", false, "OBS/S3 region (default: from the endpoint)",
            (o, v, s) => o with { Region = v }),
        new("s3-path-style", true, "path-style bucket addressing (automatic for an IP or localhost endpoint)",
            (o, v, s) => o with { S3PathStyle = Flag(v, s) }),
        new("transfers", false, "parallel transfers of the built-in client (default 16)",
            (o, v, s) => o with { Transfers = v }),
        new("output-dir", false, "directory uploaded to DLS_TRAIN_URL after the command, whatever its status",
            (o, v, s) => o with { OutputDir = v.Length > 0 ? v : null }),
        new("requirements", false, "pip install before the command: auto (pip-requirements.txt, then requirements.txt in the code dir)|off|FILE (default auto)",
            (o, v, s) => o with { Requirements = Requirements(v, s) }),
        new("data-dir", false, "fetch DLS_DATA_URL into this directory before the command: DIR|auto (JOBDIR/data)|off (default off)",
            (o, v, s) => o with { DataDir = DataDir(v, s) }),
        new("checkpoint-dir", false, "directory synced to --checkpoint-url: restored before the command, uploaded while it runs (default off)",
            (o, v, s) => o with { CheckpointDir = v.Length == 0 ? null : !v.Contains('\0') ? v : throw LaunchFailure.Setup($"{s} must be a directory, got a value with a NUL byte") }),
        new("checkpoint-url", false, "where checkpoints are synced (default DLS_TRAIN_URL + checkpoints/)",
            (o, v, s) => o with { CheckpointUrl = v.Length > 0 ? v : null }),
        new("checkpoint-every", false, "seconds between checkpoint syncs while the command runs (default 300)",
            (o, v, s) => o with { CheckpointEverySeconds = PositiveSeconds(v, s) }),
        new("checkpoint-delete", true, "delete objects under --checkpoint-url whose file was deleted from --checkpoint-dir",
            (o, v, s) => o with { CheckpointDelete = Flag(v, s) }),
        new("no-output-timeout", false, "seconds without output after which the command counts as hung (default 0: off)",
            (o, v, s) => o with { NoOutputTimeoutSeconds = Seconds(v, s) }),
        new("no-output-action", false, "what a hang does: warn (one line)|stop (the stop sequence, status 124) (default warn)",
            (o, v, s) => o with { StopOnNoOutput = HangAction(v, s) }),
        new("downloader", false, "who transfers code and logs: auto|tool|builtin (default auto)",
            (o, v, s) => o with { Downloader = Choice(v, s) }),
        new("dls-dns-fixer", false, "name or path of dls-dns-fixer",
            (o, v, s) => o with { Tools = o.Tools with { DnsFixer = Tool(v, s) } }),
        new("dls-decryptor", false, "name or path of dls-decryptor",
            (o, v, s) => o with { Tools = o.Tools with { Decryptor = Tool(v, s) } }),
        new("dls-key-client", false, "name or path of dls-key-client",
            (o, v, s) => o with { Tools = o.Tools with { KeyClient = Tool(v, s) } }),
        new("dls-pipe-stall", false, "seconds dls-pipe may take no byte before the launcher writes the log itself (default 30)",
            (o, v, s) => o with { DlsPipeStallSeconds = PositiveSeconds(v, s) }),
        new("dls-pipe", false, "name or path of dls-pipe",
            (o, v, s) => o with { Tools = o.Tools with { Pipe = Tool(v, s) } }),
        new("dls-downloader", false, "name or path of dls-downloader",
            (o, v, s) => o with { Tools = o.Tools with { Downloader = Tool(v, s) } }),
    ];

    public static string EnvName(string option) => "TRAINLAUNCHER_" + option.ToUpperInvariant().Replace('-', '_');

    /// <exception cref="LaunchFailure">an unknown option, a missing or malformed value, no command</exception>
    public static LaunchOptions Parse(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment, bool plan = false)
    {
        // The command line first: an option given there replaces its environment form unread, so
        // a bad TRAINLAUNCHER_* value in the image does not stop a job that overrides it.
        var given = new List<(Spec Spec, string Value, string Source)>();
        int i = 0;
        for (; i < args.Count; i++)
        {
            string token = args[i];
            if (token == "--") { i++; break; }
            if (!token.StartsWith('-') || token == "-") break;
            if (!token.StartsWith("--", StringComparison.Ordinal))
                throw LaunchFailure.Setup($"unknown option '{OneLine.Escape(token)}': launcher options are long (--name); put the command after '--' if it starts with '-'");

            string name = token[2..];
            string? value = null;
            int eq = name.IndexOf('=');
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            var spec = Array.Find(Specs, s => s.Name == name)
                ?? throw LaunchFailure.Setup($"unknown option '--{OneLine.Escape(name)}': see 'trainlauncher --help'");
            if (value is null)
            {
                if (spec.IsFlag) value = "true";
                else if (i + 1 < args.Count) value = args[++i];
                else throw LaunchFailure.Setup($"option '--{OneLine.Escape(name)}' needs a value");
            }
            given.Add((spec, value, "--" + name));
        }

        var options = new LaunchOptions { Plan = plan };
        foreach (var spec in Specs)
        {
            if (!given.Exists(g => g.Spec == spec) && environment.TryGetValue(EnvName(spec.Name), out var fromEnv))
                options = spec.Apply(options, fromEnv, EnvName(spec.Name));
        }
        foreach (var (spec, value, source) in given) options = spec.Apply(options, value, source);

        var command = args.Skip(i).ToArray();
        if (command.Length == 0)
            throw LaunchFailure.Setup("no command given: usage 'trainlauncher [OPTIONS] [--] COMMAND [ARG...]'");
        return options with { Command = command };
    }

    public static string Usage() => $"""
        usage: trainlauncher [OPTIONS] [--] COMMAND [ARG...]
               trainlauncher plan [OPTIONS] [--] COMMAND [ARG...]
               trainlauncher check-image IMAGE.tar [--base BASE.tar | --base-layers N] [--home DIR] [--batch]
               trainlauncher --help | --version
        Runs COMMAND as a ModelArts training job (the run_train.sh flow) and exits with its status.
        Options (each also as the environment variable in brackets):
        {Help()}

        """;

    private static string Help() =>
        string.Join('\n', Specs.Select(s => $"  {"--" + s.Name + (s.IsFlag ? "" : " VALUE"),-26} {s.Help}  [{EnvName(s.Name)}]"));

    private static bool Flag(string value, string source) => value.ToLowerInvariant() switch
    {
        "1" or "true" or "yes" or "on" => true,
        "0" or "false" or "no" or "off" or "" => false,
        _ => throw LaunchFailure.Setup($"{source} must be true or false (1/0), got '{OneLine.Escape(value)}'"),
    };

    private static Serilog.Events.LogEventLevel Level(string value, string source) => value.ToLowerInvariant() switch
    {
        "debug" => Serilog.Events.LogEventLevel.Debug,
        "info" or "information" => Serilog.Events.LogEventLevel.Information,
        "warn" or "warning" => Serilog.Events.LogEventLevel.Warning,
        "error" => Serilog.Events.LogEventLevel.Error,
        _ => throw LaunchFailure.Setup($"{source} must be debug, info, warning or error, got '{OneLine.Escape(value)}'"),
    };

    private static LogFormat Format(string value, string source) => value.ToLowerInvariant() switch
    {
        "text" => LogFormat.Text,
        "json" => LogFormat.Json,
        _ => throw LaunchFailure.Setup($"{source} must be text or json, got '{OneLine.Escape(value)}'"),
    };

    private static double Seconds(string value, string source) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s >= 0 && double.IsFinite(s)
            ? AtMostMaxSeconds(s, value, source)
            : throw LaunchFailure.Setup($"{source} must be a number of seconds >= 0, got '{OneLine.Escape(value)}'");

    /// <summary>Timers and cancellation take at most int.MaxValue ms: past it they throw, later, as an internal error.</summary>
    private const double MaxSeconds = int.MaxValue / 1000;

    private static double AtMostMaxSeconds(double seconds, string value, string source) =>
        seconds <= MaxSeconds ? seconds : throw LaunchFailure.Setup($"{source} must be at most {MaxSeconds:0} seconds (24 days), got '{OneLine.Escape(value)}'");

    private static int Port(string value, string source) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port <= 65535
            ? port
            : throw LaunchFailure.Setup($"{source} must be a port number 0-65535 (0: no health endpoint), got '{OneLine.Escape(value)}'");

    private static string Address(string value, string source) =>
        System.Net.IPAddress.TryParse(value, out _)
            ? value
            : throw LaunchFailure.Setup($"{source} must be an IP address such as 0.0.0.0, 127.0.0.1 or ::, got '{OneLine.Escape(value)}'");

    private static int NonZeroPort(string value, string source) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and < 65536
            ? port
            : throw LaunchFailure.Setup($"{source} must be a port number 1..65535, got '{OneLine.Escape(value)}'");

    private static DownloaderChoice Choice(string value, string source) => value.ToLowerInvariant() switch
    {
        "auto" => DownloaderChoice.Auto,
        "tool" => DownloaderChoice.Tool,
        "builtin" => DownloaderChoice.Builtin,
        _ => throw LaunchFailure.Setup($"{source} must be auto, tool or builtin, got '{OneLine.Escape(value)}'"),
    };

    private static double PositiveSeconds(string value, string source) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 && double.IsFinite(s)
            ? AtMostMaxSeconds(s, value, source)
            : throw LaunchFailure.Setup($"{source} must be a number of seconds > 0, got '{OneLine.Escape(value)}'");

    private static bool HangAction(string value, string source) => value.ToLowerInvariant() switch
    {
        "warn" => false,
        "stop" => true,
        _ => throw LaunchFailure.Setup($"{source} must be warn or stop, got '{OneLine.Escape(value)}'"),
    };

    /// <summary>"auto", "off" or a file; a file is checked when the code is there (it may come with it).</summary>
    private static string Requirements(string value, string source) =>
        value.ToLowerInvariant() is "auto" or "off" ? value.ToLowerInvariant()
        : value.Length > 0 && !value.Contains('\0') ? value
        : throw LaunchFailure.Setup($"{source} must be auto, off or a requirements file, got '{OneLine.Escape(value)}'");

    /// <summary>null = off; "auto" = JOBDIR/data, resolved with the job settings.</summary>
    private static string? DataDir(string value, string source) =>
        value.ToLowerInvariant() is "off" or "" ? null
        : value.ToLowerInvariant() == "auto" ? "auto"
        : !value.Contains('\0') ? value
        : throw LaunchFailure.Setup($"{source} must be a directory, auto or off, got '{OneLine.Escape(value)}'");

    private static Cluster.RankTableMode RankTableChoice(string value, string source) => value.ToLowerInvariant() switch
    {
        "auto" => Cluster.RankTableMode.Auto,
        "off" => Cluster.RankTableMode.Off,
        _ => throw LaunchFailure.Setup($"{source} must be auto or off, got '{OneLine.Escape(value)}'"),
    };

    private static Cluster.WorkerMode PerDeviceChoice(string value, string source) => value.ToLowerInvariant() switch
    {
        "1" or "true" or "yes" or "on" or "own" => Cluster.WorkerMode.Own,
        "shared" => Cluster.WorkerMode.Shared,
        "0" or "false" or "no" or "off" or "" => Cluster.WorkerMode.Off,
        _ => throw LaunchFailure.Setup($"{source} must be own (or true, 1), shared or off (false, 0), got '{OneLine.Escape(value)}'"),
    };

    private static string Tool(string value, string source) =>
        value.Length > 0 && !value.Contains('\0')
            ? value
            : throw LaunchFailure.Setup($"{source} must name a tool or its path, got an empty value");
}
