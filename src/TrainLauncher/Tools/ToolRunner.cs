using System.Text;
using CliWrap;
using TrainLauncher.Supervision;

namespace TrainLauncher.Tools;

/// <summary>
/// The only place that starts the platform's dls-* tools, through CliWrap. Tools are found by
/// path (an override containing '/') or on PATH; a missing tool is null, and each step decides
/// what that means. Secrets go through stdin or come back on stdout, never on a command line
/// that an exception text could echo (CliWrap puts arguments in its messages).
/// </summary>
internal sealed class ToolRunner(IReadOnlyDictionary<string, string> environment)
{
    private const int CaptureLimit = 4 << 20;

    /// <summary>The launcher's environment, which every tool gets.</summary>
    public IReadOnlyDictionary<string, string> Environment => environment;

    public string? Find(string nameOrPath) => ExecutableLookup.Find(nameOrPath, environment.GetValueOrDefault("PATH"));

    /// <summary>Runs a tool to completion, capturing stdout and stderr (each up to 4 MiB).</summary>
    /// <param name="childEnvironment">The tool's whole environment (the command's, for pip); null: the launcher's.</param>
    public async Task<ToolResult> RunAsync(string path, IReadOnlyList<string> args, CancellationToken cancellation,
        string? stdin = null, string? workingDirectory = null, PipeTarget? alsoOutputTo = null,
        IReadOnlyDictionary<string, string>? childEnvironment = null)
    {
        var stdout = new BoundedText(CaptureLimit);
        var stderr = new BoundedText(CaptureLimit);
        var command = Cli.Wrap(path)
            .WithArguments(args)
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(alsoOutputTo is null ? stdout.Target : PipeTarget.Merge(stdout.Target, alsoOutputTo))
            .WithStandardErrorPipe(alsoOutputTo is null ? stderr.Target : PipeTarget.Merge(stderr.Target, alsoOutputTo));
        if (stdin is not null) command = command.WithStandardInputPipe(PipeSource.FromString(stdin));
        if (workingDirectory is not null) command = command.WithWorkingDirectory(workingDirectory);
        if (childEnvironment is not null)
        {
            // CliWrap adds to the inherited environment: what the child must not see is set to null (removed).
            var exact = environment.Keys.Where(k => !childEnvironment.ContainsKey(k)).ToDictionary(k => k, string? (_) => null, StringComparer.Ordinal);
            foreach (var (name, value) in childEnvironment) exact[name] = value;
            command = command.WithEnvironmentVariables(exact);
        }

        var result = await Supervision.ChildRegistry.Start(command, c => c.ExecuteAsync(cancellation));
        return new ToolResult(result.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Keeps the first <paramref name="limit"/> characters of a stream; reads (and drops) the rest.</summary>
    private sealed class BoundedText(int limit)
    {
        private readonly StringBuilder _text = new();

        public PipeTarget Target => PipeTarget.Create(async (stream, ct) =>
        {
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var buffer = new char[8192];
            int n;
            while ((n = await reader.ReadAsync(buffer, ct)) > 0)
            {
                lock (_text) _text.Append(buffer, 0, Math.Min(n, Math.Max(0, limit - _text.Length)));
            }
        });

        public override string ToString()
        {
            lock (_text) return _text.ToString();
        }
    }
}
