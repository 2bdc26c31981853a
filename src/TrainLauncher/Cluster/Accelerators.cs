using System.Globalization;
using System.Text.RegularExpressions;

namespace TrainLauncher.Cluster;

/// <summary>Reads accelerator visibility (SPEC 9) from the environment and the device directory.</summary>
internal static partial class Accelerators
{
    public const string CudaVisibleDevices = "CUDA_VISIBLE_DEVICES";
    public const string NvidiaVisibleDevices = "NVIDIA_VISIBLE_DEVICES";
    public const string AscendRtVisibleDevices = "ASCEND_RT_VISIBLE_DEVICES";
    public const string AscendVisibleDevices = "ASCEND_VISIBLE_DEVICES";

    /// <summary>Forwarded unchanged: the environment scrubber must never remove these.</summary>
    public static IReadOnlySet<string> VariableNames { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        CudaVisibleDevices, NvidiaVisibleDevices, AscendRtVisibleDevices, AscendVisibleDevices,
    };

    public static AcceleratorVisibility Detect(IReadOnlyDictionary<string, string> environment, string deviceDirectory = "/dev") =>
        new(
            Read("NVIDIA", environment, CudaVisibleDevices, NvidiaVisibleDevices, deviceDirectory, NvidiaDevice()),
            Read("Ascend", environment, AscendRtVisibleDevices, AscendVisibleDevices, deviceDirectory, DavinciDevice()));

    // The runtime variable (CUDA_/ASCEND_RT_) holds ordinals the runtime accepts; the container
    // variable (NVIDIA_/ASCEND_) holds host-level ids, and with `all` we count the device nodes.
    private static DeviceSet Read(
        string vendor,
        IReadOnlyDictionary<string, string> environment,
        string runtimeVariable,
        string containerVariable,
        string deviceDirectory,
        Regex deviceName)
    {
        var source = environment.ContainsKey(runtimeVariable) ? runtimeVariable
            : environment.ContainsKey(containerVariable) ? containerVariable
            : null;
        if (source is null)
            return new DeviceSet(vendor, runtimeVariable, null, null, []);

        var value = environment[source].Trim();
        var ids = value.ToLowerInvariant() switch
        {
            "all" => CountDevices(deviceDirectory, deviceName),
            "none" or "void" or "" => [],
            _ => ParseList(source, value),
        };
        return new DeviceSet(vendor, runtimeVariable, source, value, ids);
    }

    private static IReadOnlyList<string> ParseList(string variable, string value)
    {
        var entries = value.Split(',').Select(e => e.Trim()).ToList();
        if (entries.Any(e => e.Length == 0 || e.Any(char.IsWhiteSpace)))
            throw new ClusterLayoutException(
                $"{variable}={value} has an empty or blank entry: give device ids separated by commas, like 0,1");
        return entries;
    }

    private static IReadOnlyList<string> CountDevices(string deviceDirectory, Regex deviceName)
    {
        if (!Directory.Exists(deviceDirectory))
            return [];
        return Directory.EnumerateFileSystemEntries(deviceDirectory)
            .Select(path => deviceName.Match(Path.GetFileName(path)))
            .Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
            .Order()
            .Select(n => n.ToString(CultureInfo.InvariantCulture))
            .ToList();
    }

    // nvidiactl, nvidia-uvm, davinci_manager are control nodes, not devices.
    [GeneratedRegex(@"^nvidia([0-9]+)$")]
    private static partial Regex NvidiaDevice();

    [GeneratedRegex(@"^davinci([0-9]+)$")]
    private static partial Regex DavinciDevice();
}

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
        : $"{Vendor} {Count} visible ({Source}={Value}{(IsAll ? $": {string.Join(',', Ids)}" : "")})";

    private bool IsAll => string.Equals(Value, "all", StringComparison.OrdinalIgnoreCase);
}

/// <summary>What <c>--gpus</c> changes: one variable for the command.</summary>
internal sealed record GpuRestriction(string Variable, string Value, int Count);

internal sealed record AcceleratorVisibility(DeviceSet Nvidia, DeviceSet Ascend)
{
    /// <summary>Ascend when only Ascend devices are visible, else NVIDIA.</summary>
    public DeviceSet Primary => Ascend.Count > 0 && Nvidia.Count == 0 ? Ascend : Nvidia;

    public int Count => Primary.Count;

    /// <summary>
    /// <c>--gpus 0,2</c>: the 0th and 2nd visible devices (with CUDA_VISIBLE_DEVICES=4,5,6 that
    /// is 4,6). Throws <see cref="ClusterLayoutException"/> for a malformed list or an index out of range.
    /// </summary>
    public GpuRestriction Restrict(string gpus)
    {
        var indexes = new List<int>();
        foreach (var entry in gpus.Split(','))
        {
            var text = entry.Trim();
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                throw new ClusterLayoutException(
                    $"--gpus {gpus}: '{text}' is not a device index; give indexes of the visible devices like 0,2");
            if (indexes.Contains(index))
                throw new ClusterLayoutException($"--gpus {gpus}: index {index} is given twice");
            indexes.Add(index);
        }

        var devices = Primary;
        var outOfRange = indexes.FirstOrDefault(i => i >= devices.Count, -1);
        if (outOfRange >= 0)
            throw new ClusterLayoutException(devices.Count == 0
                ? $"--gpus {gpus}: no accelerator is visible ({devices.Describe()}); drop --gpus or make devices visible"
                : $"--gpus {gpus}: index {outOfRange} is out of range, {devices.Describe()}; use 0..{devices.Count - 1}");

        var value = string.Join(',', indexes.Select(devices.RuntimeId));
        return new GpuRestriction(devices.RuntimeVariable, value, indexes.Count);
    }

    public IEnumerable<string> Describe()
    {
        yield return $"accelerators: {Nvidia.Describe()}; {Ascend.Describe()}";
    }
}
