using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Compact;
using TrainLauncher.Launch;
using TrainLauncher.Output;

namespace TrainLauncher.Logging;

/// <summary>
/// The launcher's own messages (SPEC 4): to stdout, through the console gate so they never
/// land inside a line of the command's output, never into the job log. Text form is one
/// line with a fixed prefix; JSON form is one object per line.
/// </summary>
internal static class LauncherLogging
{
    public const string Prefix = "[trainlauncher] ";

    public static Logger Create(LogEventLevel level, LogFormat format, ConsoleGate console) =>
        new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .WriteTo.Sink(new GateSink(console, format == LogFormat.Json ? new RenderedCompactJsonFormatter() : new PrefixedTextFormatter()))
            .CreateLogger();

    private sealed class GateSink(ConsoleGate console, ITextFormatter formatter) : ILogEventSink
    {
        public void Emit(LogEvent logEvent)
        {
            var text = new StringWriter();
            formatter.Format(logEvent, text);
            console.WriteMessage(text.ToString());
        }
    }

    /// <summary>`[trainlauncher] message` for information, `[trainlauncher] warning: ...` above it.</summary>
    private sealed class PrefixedTextFormatter : ITextFormatter
    {
        public void Format(LogEvent logEvent, TextWriter output)
        {
            output.Write(Prefix);
            if (logEvent.Level >= LogEventLevel.Warning) output.Write(logEvent.Level == LogEventLevel.Warning ? "warning: " : "error: ");
            var message = new StringWriter();
            RenderLiteral(logEvent, message);
            // One event, one line: a newline inside a value would let a message look like output.
            output.Write(message.ToString().Replace('\n', ' ').Replace('\r', ' '));
            if (logEvent.Exception is { } e) output.Write($" ({e.GetType().Name}: {e.Message.Replace('\n', ' ')})");
            output.Write('\n');
        }

        /// <summary>Like {Message:l}: strings as they are, not quoted.</summary>
        private static void RenderLiteral(LogEvent logEvent, TextWriter output)
        {
            foreach (var token in logEvent.MessageTemplate.Tokens)
            {
                if (token is Serilog.Parsing.PropertyToken property
                    && logEvent.Properties.TryGetValue(property.PropertyName, out var value)
                    && value is ScalarValue { Value: string text })
                    output.Write(Align(text, property.Alignment));
                else
                    token.Render(logEvent.Properties, output);
            }
        }

        private static string Align(string text, Serilog.Parsing.Alignment? alignment) => alignment switch
        {
            null => text,
            { Direction: Serilog.Parsing.AlignmentDirection.Left } a => text.PadRight(a.Width),
            { } a => text.PadLeft(a.Width),
        };
    }
}
