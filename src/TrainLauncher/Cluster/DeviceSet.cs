using System.Globalization;
using TrainLauncher.Output;

namespace TrainLauncher.Cluster;

/// <summary>Devices of one vendor visible to the launcher.</summary>
/// <param name="Source">The variable the ids came from, or null when neither is set.</param>
/// <param name="Value">That variable's value as given.</param>
internal sealed record DeviceSet(
    string Vendor,
    string RuntimeVariable,
    string? Source,
    string? Value,
    IReadOnlyList<string> Ids)
{
    public int Count => Ids.Count;

    /// <summary>Id of the visible device at <paramref name="index"/> as the runtime variable wants it.</summary>
    public string RuntimeId(int index) =>
        Source == RuntimeVariable ? Ids[index] : index.ToString(CultureInfo.InvariantCulture);

    public string Describe() => Source is null
        ? $"{Vendor} none"
        : $"{Vendor} {Count} visible ({Source}={OneLine.Escape(Value ?? "")}{(IsAll ? $": {string.Join(',', Ids)}" : "")})";

    private bool IsAll => string.Equals(Value, "all", StringComparison.OrdinalIgnoreCase);
}
