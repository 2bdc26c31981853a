using TrainLauncher.Tests.Support;
using static TrainLauncher.Tests.Images.ImageCheck;

namespace TrainLauncher.Tests.Images.Containers;

/// <summary>
/// Issue 11: each image built from docker/ and examples/, saved by `buildah push
/// oci-archive:FILE`, passes `trainlauncher check-image --base` against its base saved the
/// same way; an image that breaks the rules fails it and names what it broke.
/// </summary>
[Collection("images")]
public sealed class ImageArchiveSpecs(BuiltImages images)
{
    private (int Code, string Output) CheckImage(string image, string @base, params string[] options) =>
        Exec(Repo.Launcher, ["check-image", images.Archive(image), "--base", images.Archive(@base), .. options]);

    [Theory]
    [InlineData("launcher-cpu", "modelarts-base")]
    [InlineData("launcher-cpu-arm64", "debian-arm64")]
    [InlineData("batch", "modelarts-base", "--batch")]
    [InlineData("custom", "launcher-cpu")]
    public void A_built_image_passes_check_image_against_its_base(string image, string @base, params string[] options)
    {
        var (code, output) = CheckImage(image, @base, options);

        Assert.True(code == 0, output);
        Assert.Matches(@"^check-image: .*\.oci\.tar is clean \(\d+ layers, \d+ base, [0-9.]+ GB\)\n$", output);
    }

    [Fact]
    public void An_image_that_writes_under_usr_and_adds_a_setuid_file_fails_check_image_naming_both_paths()
    {
        var (code, output) = CheckImage("rule-breaker", "launcher-cpu");

        Assert.True(code == 1, output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Contains(lines, l => l.StartsWith("/usr/local/bin/extra-tool: added or changed under /usr", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("/opt/escalate: new root-owned file with setuid/setgid (mode 4755)", StringComparison.Ordinal));
        Assert.StartsWith("check-image: ", lines[^1]);
        Assert.Contains("breaks 2 rule(s)", lines[^1]);
    }
}
