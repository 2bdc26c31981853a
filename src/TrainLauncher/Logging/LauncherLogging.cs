using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Extensions.Logging;
using Serilog.Formatting;
using TrainLauncher.Launch;
using TrainLauncher.Output;

namespace TrainLauncher.Logging;

/// <summary>
/// The launcher's own messages (SPEC 4): to stdout, through the console gate so they never
/// land inside a line of the command's output, never into the job log. Each message is one
/// event of an *Events class (one [LoggerMessage] method per event: fixed id, typed fields);
/// Serilog is the provider that writes it, as one text line or one JSON object.
/// </summary>
internal static class LauncherLogging
{
    public const string Prefix = "[trainlauncher] ";

    /// <summary>The category of every launcher event (SourceContext in JSON).</summary>
    public const string Category = "trainlauncher";

    public static Logger Create(LogEventLevel level, LogFormat format, ConsoleGate console) =>
        new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .WriteTo.Sink(new GateSink(console, format == LogFormat.Json ? new JsonEventFormatter() : new TextEventFormatter()))
            .CreateLogger();

    /// <summary>Serilog as the provider behind Microsoft.Extensions.Logging, for the launcher's
    /// events (<see cref="Category"/>) and the host's own.</summary>
    public static SerilogLoggerFactory Provider(Serilog.ILogger serilog) => new(serilog);

    private sealed class GateSink(ConsoleGate console, ITextFormatter formatter) : ILogEventSink
    {
        public void Emit(LogEvent logEvent)
        {
            var text = new StringWriter();
            formatter.Format(logEvent, text);
            console.WriteMessage(text.ToString());
        }
    }
}
