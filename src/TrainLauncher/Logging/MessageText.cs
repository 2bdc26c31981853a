using Serilog.Events;
using Serilog.Parsing;

namespace TrainLauncher.Logging;

/// <summary>
/// An event's message as people read it, the same in both formats (the text line after its
/// prefix, and JSON's @m): strings as they are, not quoted (like {Name:l}), numbers with the
/// template's format, and one line whatever a value holds — a newline in a value would let a
/// message look like the command's output.
/// </summary>
internal static class MessageText
{
    public static string Render(LogEvent logEvent)
    {
        var output = new StringWriter();
        foreach (var token in logEvent.MessageTemplate.Tokens)
        {
            if (token is PropertyToken property
                && logEvent.Properties.TryGetValue(property.PropertyName, out var value)
                && value is ScalarValue { Value: string text })
                output.Write(Align(text, property.Alignment));
            else
                token.Render(logEvent.Properties, output);
        }
        return output.ToString().Replace('\n', ' ').Replace('\r', ' ');
    }

    private static string Align(string text, Alignment? alignment) => alignment switch
    {
        null => text,
        { Direction: AlignmentDirection.Left } a => text.PadRight(a.Width),
        { } a => text.PadLeft(a.Width),
    };
}
