using Serilog.Events;
using Serilog.Formatting;

namespace TrainLauncher.Logging;

/// <summary>`[trainlauncher] message` for information, `[trainlauncher] warning: ...` and
/// `[trainlauncher] error: ...` above it; one line per event.</summary>
internal sealed class TextEventFormatter : ITextFormatter
{
    public void Format(LogEvent logEvent, TextWriter output)
    {
        output.Write(LauncherLogging.Prefix);
        if (logEvent.Level >= LogEventLevel.Warning) output.Write(logEvent.Level == LogEventLevel.Warning ? "warning: " : "error: ");
        output.Write(MessageText.Render(logEvent));
        if (logEvent.Exception is { } e) output.Write($" ({e.GetType().Name}: {e.Message.Replace('\n', ' ')})");
        output.Write('\n');
    }
}
