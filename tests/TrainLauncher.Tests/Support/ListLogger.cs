using Microsoft.Extensions.Logging;

namespace TrainLauncher.Tests.Support;

/// <summary>Keeps each event's message as the logging library formats it (strings unquoted, the
/// template's number formats): the text of the launcher's line, without its prefix.</summary>
internal sealed class ListLogger(List<string> lines) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (lines) lines.Add(formatter(state, exception));
    }
}
