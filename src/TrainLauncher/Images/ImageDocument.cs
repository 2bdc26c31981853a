using System.Text.Json;

namespace TrainLauncher.Images;

/// <summary>
/// One JSON document of an image archive (manifest.json, index.json, a manifest or config blob)
/// read with the shape it must have. A value of the wrong kind anywhere (an array where an
/// object belongs, a number where a string does) is one <see cref="ImageFormatException"/>
/// naming the document and the place in it; JsonElement's own accessors would throw
/// InvalidOperationException, which nothing above expects.
/// </summary>
internal sealed class ImageDocument : IDisposable
{
    private const int MaxBytes = 16 << 20;

    private readonly JsonDocument _json;
    private readonly string _archive;

    private ImageDocument(JsonDocument json, string archive, string name)
    {
        _json = json;
        _archive = archive;
        Name = name;
    }

    public string Name { get; }

    public JsonElement Root => _json.RootElement;

    public static ImageDocument Read(ImageFiles files, string name)
    {
        using var stream = files.Open(name);
        if (stream.Length > MaxBytes)
            throw Bad(files.Describe, name, $"{stream.Length} bytes is too large for image metadata");
        try
        {
            return new ImageDocument(JsonDocument.Parse(stream), files.Describe, name);
        }
        catch (JsonException e)
        {
            throw Bad(files.Describe, name, $"not valid JSON ({e.Message})");
        }
    }

    public void Dispose() => _json.Dispose();

    public ImageFormatException Bad(string why) => Bad(_archive, Name, why);

    public static ImageFormatException Bad(string archive, string name, string why) => new($"{archive}: {name}: {why}");

    /// <summary>The element itself, when it is an object; <paramref name="where"/> names it in the error.</summary>
    public JsonElement Object(JsonElement element, string where) =>
        element.ValueKind == JsonValueKind.Object ? element : throw Bad($"{where} is not an object");

    public JsonElement Array(JsonElement element, string where) =>
        element.ValueKind == JsonValueKind.Array ? element : throw Bad($"{where} is not an array");

    public string String(JsonElement element, string where)
    {
        if (element.ValueKind != JsonValueKind.String)
            throw Bad($"{where} is not a string");
        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate ("\ud800") parses but cannot become a .NET string.
            throw Bad($"{where} is not valid text");
        }
    }

    /// <summary>A property of an object, or null when it is absent or JSON null.</summary>
    public static JsonElement? Optional(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value)
        && value.ValueKind != JsonValueKind.Null
            ? value
            : null;

    /// <summary>A string property of the object at <paramref name="where"/> ("" for the root).</summary>
    public string RequiredString(JsonElement element, string where, string property)
    {
        string place = where.Length == 0 ? "" : where + ": ";
        if (where.Length > 0)
            Object(element, where);
        else if (element.ValueKind != JsonValueKind.Object)
            throw Bad("not an object");
        return Optional(element, property) is { } value
            ? String(value, $"{place}\"{property}\"")
            : throw Bad($"{place}missing \"{property}\"");
    }

    /// <summary>Each element of an array with its place, e.g. ("layers[2]", element).</summary>
    public static IEnumerable<(string Where, JsonElement Element)> Items(JsonElement array, string where) =>
        array.EnumerateArray().Select((element, i) => ($"{where}[{i}]", element));
}
