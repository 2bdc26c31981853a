using System.Globalization;
using TrainLauncher.Output;

namespace TrainLauncher.Cluster;

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
                    $"--gpus {OneLine.Escape(gpus)}: '{OneLine.Escape(text)}' is not a device index; give indexes of the visible devices like 0,2");
            if (indexes.Contains(index))
                throw new ClusterLayoutException($"--gpus {OneLine.Escape(gpus)}: index {index} is given twice");
            indexes.Add(index);
        }

        var devices = Primary;
        var outOfRange = indexes.FirstOrDefault(i => i >= devices.Count, -1);
        if (outOfRange >= 0)
            throw new ClusterLayoutException(devices.Count == 0
                ? $"--gpus {OneLine.Escape(gpus)}: no accelerator is visible ({devices.Describe()}); drop --gpus or make devices visible"
                : $"--gpus {OneLine.Escape(gpus)}: index {outOfRange} is out of range, {devices.Describe()}; use 0..{devices.Count - 1}");

        var value = string.Join(',', indexes.Select(devices.RuntimeId));
        return new GpuRestriction(devices.RuntimeVariable, value, indexes.Count, indexes.Select(i => devices.Ids[i]).ToList());
    }

    public IEnumerable<string> Describe()
    {
        yield return $"accelerators: {Nvidia.Describe()}; {Ascend.Describe()}";
    }
}
