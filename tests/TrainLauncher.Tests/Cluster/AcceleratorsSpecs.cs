using TrainLauncher.Cluster;

namespace TrainLauncher.Tests.Cluster;

public sealed class AcceleratorsSpecs : IDisposable
{
    // A stand-in for /dev: four GPUs (one numbered 10, to check numeric order), eight NPUs and the
    // control nodes that must not be counted.
    private readonly string _devices = Directory.CreateTempSubdirectory("trainlauncher-dev-").FullName;

    public AcceleratorsSpecs()
    {
        foreach (var name in new[] { "nvidia0", "nvidia1", "nvidia2", "nvidia10", "nvidiactl", "nvidia-uvm", "nvidia-modeset", "davinci_manager", "null" })
            File.WriteAllText(Path.Combine(_devices, name), "");
        for (var i = 0; i < 8; i++)
            File.WriteAllText(Path.Combine(_devices, $"davinci{i}"), "");
    }

    public void Dispose() => Directory.Delete(_devices, recursive: true);

    [Theory]
    [InlineData("", "", "")]
    [InlineData("NVIDIA_VISIBLE_DEVICES=all", "0,1,2,10", "")]
    [InlineData("NVIDIA_VISIBLE_DEVICES=ALL", "0,1,2,10", "")]
    [InlineData("NVIDIA_VISIBLE_DEVICES=none", "", "")]
    [InlineData("NVIDIA_VISIBLE_DEVICES=void", "", "")]
    [InlineData("NVIDIA_VISIBLE_DEVICES=", "", "")]
    [InlineData("NVIDIA_VISIBLE_DEVICES=2,3", "2,3", "")]
    [InlineData("NVIDIA_VISIBLE_DEVICES=GPU-aa11,GPU-bb22", "GPU-aa11,GPU-bb22", "")]
    [InlineData("NVIDIA_VISIBLE_DEVICES=all CUDA_VISIBLE_DEVICES=4,5,6", "4,5,6", "")]
    [InlineData("NVIDIA_VISIBLE_DEVICES=all CUDA_VISIBLE_DEVICES=", "", "")]
    [InlineData("CUDA_VISIBLE_DEVICES=1", "1", "")]
    [InlineData("ASCEND_VISIBLE_DEVICES=all", "", "0,1,2,3,4,5,6,7")]
    [InlineData("ASCEND_VISIBLE_DEVICES=none", "", "")]
    [InlineData("ASCEND_VISIBLE_DEVICES=0,2", "", "0,2")]
    [InlineData("ASCEND_VISIBLE_DEVICES=all ASCEND_RT_VISIBLE_DEVICES=0,1", "", "0,1")]
    [InlineData("ASCEND_RT_VISIBLE_DEVICES=3", "", "3")]
    public void Counts_visible_devices_per_visibility_form(string env, string nvidia, string ascend)
    {
        var visible = Accelerators.Detect(EnvText.Parse(env), _devices);

        Assert.Equal(nvidia, string.Join(',', visible.Nvidia.Ids));
        Assert.Equal(ascend, string.Join(',', visible.Ascend.Ids));
    }

    [Fact]
    public void All_with_no_device_directory_is_zero()
    {
        var visible = Accelerators.Detect(EnvText.Parse("NVIDIA_VISIBLE_DEVICES=all"), Path.Combine(_devices, "missing"));

        Assert.Equal(0, visible.Count);
    }

    [Fact]
    public void Primary_is_Ascend_only_when_no_NVIDIA_device_is_visible()
    {
        Assert.Equal("Ascend", Accelerators.Detect(EnvText.Parse("ASCEND_VISIBLE_DEVICES=all"), _devices).Primary.Vendor);
        Assert.Equal("NVIDIA", Accelerators.Detect(EnvText.Parse("ASCEND_VISIBLE_DEVICES=all NVIDIA_VISIBLE_DEVICES=0"), _devices).Primary.Vendor);
        Assert.Equal(8, Accelerators.Detect(EnvText.Parse("ASCEND_VISIBLE_DEVICES=all"), _devices).Count);
    }

    [Theory]
    [InlineData("CUDA_VISIBLE_DEVICES=0,,1", "CUDA_VISIBLE_DEVICES=0,,1")]
    [InlineData("NVIDIA_VISIBLE_DEVICES=0,", "NVIDIA_VISIBLE_DEVICES=0,")]
    [InlineData("ASCEND_RT_VISIBLE_DEVICES=,1", "ASCEND_RT_VISIBLE_DEVICES=,1")]
    [InlineData("ASCEND_VISIBLE_DEVICES=1,,", "ASCEND_VISIBLE_DEVICES=1,,")]
    public void Malformed_visibility_list_fails_naming_the_variable(string env, string named)
    {
        var error = Assert.Throws<ClusterLayoutException>(() => Accelerators.Detect(EnvText.Parse(env), _devices));

        Assert.StartsWith(named, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("CUDA_VISIBLE_DEVICES=4,5,6", "0,2", "CUDA_VISIBLE_DEVICES", "4,6")]
    [InlineData("CUDA_VISIBLE_DEVICES=4,5,6", "2,0", "CUDA_VISIBLE_DEVICES", "6,4")]
    [InlineData("CUDA_VISIBLE_DEVICES=4,5,6", " 1 ", "CUDA_VISIBLE_DEVICES", "5")]
    [InlineData("CUDA_VISIBLE_DEVICES=GPU-a,GPU-b", "1", "CUDA_VISIBLE_DEVICES", "GPU-b")]
    // The container variable holds host ids; inside the container CUDA numbers its devices 0..n-1.
    [InlineData("NVIDIA_VISIBLE_DEVICES=all", "1,3", "CUDA_VISIBLE_DEVICES", "1,3")]
    [InlineData("NVIDIA_VISIBLE_DEVICES=2,3", "1", "CUDA_VISIBLE_DEVICES", "1")]
    [InlineData("ASCEND_VISIBLE_DEVICES=all", "0,7", "ASCEND_RT_VISIBLE_DEVICES", "0,7")]
    [InlineData("ASCEND_RT_VISIBLE_DEVICES=2,3,4", "2", "ASCEND_RT_VISIBLE_DEVICES", "4")]
    public void Gpus_selects_among_the_visible_devices(string env, string gpus, string variable, string value)
    {
        var restriction = Accelerators.Detect(EnvText.Parse(env), _devices).Restrict(gpus);

        Assert.Equal(variable, restriction.Variable);
        Assert.Equal(value, restriction.Value);
        Assert.Equal(value.Split(',').Length, restriction.Count);
    }

    [Theory]
    [InlineData("CUDA_VISIBLE_DEVICES=4,5,6", "3", "index 3 is out of range")]
    [InlineData("CUDA_VISIBLE_DEVICES=4,5,6", "0,5", "index 5 is out of range")]
    [InlineData("NVIDIA_VISIBLE_DEVICES=all", "4", "index 4 is out of range")]
    [InlineData("ASCEND_VISIBLE_DEVICES=0,1", "2", "index 2 is out of range")]
    [InlineData("", "0", "no accelerator is visible")]
    [InlineData("NVIDIA_VISIBLE_DEVICES=none", "0", "no accelerator is visible")]
    [InlineData("CUDA_VISIBLE_DEVICES=4,5,6", "", "'' is not a device index")]
    [InlineData("CUDA_VISIBLE_DEVICES=4,5,6", "a", "'a' is not a device index")]
    [InlineData("CUDA_VISIBLE_DEVICES=4,5,6", "0,,1", "'' is not a device index")]
    [InlineData("CUDA_VISIBLE_DEVICES=4,5,6", "-1", "'-1' is not a device index")]
    [InlineData("CUDA_VISIBLE_DEVICES=4,5,6", "+1", "'+1' is not a device index")]
    [InlineData("CUDA_VISIBLE_DEVICES=4,5,6", "1.5", "'1.5' is not a device index")]
    [InlineData("CUDA_VISIBLE_DEVICES=4,5,6", "0-2", "'0-2' is not a device index")]
    [InlineData("CUDA_VISIBLE_DEVICES=4,5,6", "1,1", "index 1 is given twice")]
    public void Gpus_out_of_range_or_malformed_fails_with_one_line(string env, string gpus, string reason)
    {
        var visible = Accelerators.Detect(EnvText.Parse(env), _devices);

        var error = Assert.Throws<ClusterLayoutException>(() => visible.Restrict(gpus));

        Assert.StartsWith($"--gpus {gpus}:", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Visibility_variables_are_named_for_the_scrubber()
    {
        Assert.Equal(
            ["ASCEND_RT_VISIBLE_DEVICES", "ASCEND_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES"],
            Accelerators.VariableNames.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Describe_shows_the_source_and_the_ids()
    {
        var line = Assert.Single(Accelerators.Detect(EnvText.Parse("NVIDIA_VISIBLE_DEVICES=all ASCEND_VISIBLE_DEVICES=none"), _devices).Describe());

        Assert.Equal("accelerators: NVIDIA 4 visible (NVIDIA_VISIBLE_DEVICES=all: 0,1,2,10); Ascend 0 visible (ASCEND_VISIBLE_DEVICES=none)", line);
    }
}
