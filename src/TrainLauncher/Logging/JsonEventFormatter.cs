using System.Globalization;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Json;

namespace TrainLauncher.Logging;

/// <summary>
/// One JSON object per event, in Serilog's compact layout (CLEF): <c>@t</c> time, <c>@m</c> the
/// message exactly as the text line shows it (<see cref="MessageText"/>: no quoted values),
/// <c>@i</c> the event's fixed id, <c>@l</c> the level when not Information, <c>@x</c> an
/// exception, then every field with its type (numbers as numbers), EventId {Id, Name} included.
/// </summary>
internal sealed class JsonEventFormatter : ITextFormatter
{
    private static readonly JsonValueFormatter Values = new(typeTagName: null);

    public void Format(LogEvent logEvent, TextWriter output)
    {
        output.Write("{\"@t\":\"");
        output.Write(logEvent.Timestamp.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        output.Write("\",\"@m\":");
        JsonValueFormatter.WriteQuotedJsonString(MessageText.Render(logEvent), output);
        if (EventIdOf(logEvent) is { } id)
        {
            output.Write(",\"@i\":");
            output.Write(id.ToString(CultureInfo.InvariantCulture));
        }
        if (logEvent.Level != LogEventLevel.Information)
        {
            output.Write(",\"@l\":\"");
            output.Write(logEvent.Level.ToString());
            output.Write('"');
        }
        if (logEvent.Exception is { } e)
        {
            output.Write(",\"@x\":");
            JsonValueFormatter.WriteQuotedJsonString(e.ToString(), output);
        }
        foreach (var (name, value) in logEvent.Properties)
        {
            output.Write(',');
            // CLEF reserves names that start with '@': a field of that name is written as '@@'.
            JsonValueFormatter.WriteQuotedJsonString(name.StartsWith('@') ? "@" + name : name, output);
            output.Write(':');
            Values.Format(value, output);
        }
        output.Write("}\n");
    }

    private static int? EventIdOf(LogEvent logEvent) =>
        logEvent.Properties.TryGetValue("EventId", out var value) && value is StructureValue structure
            && structure.Properties.FirstOrDefault(p => p.Name == "Id")?.Value is ScalarValue { Value: int id }
            ? id
            : null;
}
