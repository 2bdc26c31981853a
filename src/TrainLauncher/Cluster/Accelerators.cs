using System.Globalization;
using System.Text.RegularExpressions;
using TrainLauncher.Output;

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
                $"{variable}={OneLine.Escape(value)} has an empty or blank entry: give device ids separated by commas, like 0,1");
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
