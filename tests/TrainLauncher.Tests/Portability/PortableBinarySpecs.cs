using System.Text.RegularExpressions;
using TrainLauncher.Tests.Support;
using static TrainLauncher.Tests.Images.ImageCheck;

namespace TrainLauncher.Tests.Portability;

/// <summary>
/// Issue 11: the published binaries start on every base image down to glibc 2.17 (Ubuntu 16.04,
/// CentOS 7, EulerOS), x64 and arm64 (Ascend nodes). Checked on the files `dotnet publish`
/// made (tests/run.sh publishes both), with the issue's own commands; the arm64 one runs under
/// qemu-aarch64-static (tests/setup/arm64.sh) against Debian's arm64 glibc.
/// </summary>
public sealed class PortableBinarySpecs
{
    private static readonly string[] GlibcLibraries =
        ["libc.so.6", "libm.so.6", "libdl.so.2", "librt.so.1", "libpthread.so.0", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"];

    public static TheoryData<string> Architectures => new() { "x64", "arm64" };

    private static string Binary(string arch)
    {
        string path = arch == "x64" ? Repo.PublishedX64 : Repo.PublishedArm64;
        Assert.True(File.Exists(path),
            $"{path} is missing: `dotnet publish src/TrainLauncher -c Release{(arch == "x64" ? "" : " -r linux-arm64")} -o {Path.GetDirectoryName(path)}` (tests/run.sh does it)");
        return path;
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void The_published_binary_is_elf_for_its_architecture(string arch)
    {
        var (code, output) = Exec("readelf", "-h", Binary(arch));

        Assert.Equal(0, code);
        Assert.Contains(arch == "x64" ? "Advanced Micro Devices X86-64" : "AArch64", output);
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void The_published_binary_needs_at_most_glibc_2_17(string arch)
    {
        var (code, output) = Exec("objdump", "-T", Binary(arch));

        Assert.Equal(0, code);
        var versions = Regex.Matches(output, @"GLIBC_([0-9.]+)").Select(m => Version.Parse(m.Groups[1].Value)).Distinct().ToList();
        Assert.NotEmpty(versions);
        Assert.True(versions.Max() <= new Version(2, 17), $"needs GLIBC_{versions.Max()}");
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void The_published_binary_needs_no_library_beyond_glibc_and_the_loader(string arch)
    {
        var (code, output) = Exec("readelf", "-d", Binary(arch));

        Assert.Equal(0, code);
        var needed = Regex.Matches(output, @"\(NEEDED\)\s+Shared library: \[([^\]]+)\]").Select(m => m.Groups[1].Value).ToList();
        Assert.Contains("libc.so.6", needed);
        Assert.All(needed, library => Assert.Contains(library, GlibcLibraries));
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public async Task The_published_binary_runs_a_command_and_passes_its_status_through(string arch)
    {
        using var dir = new TempDir();
        var run = new LauncherRun(dir) { Launcher = Binary(arch) }
            .Args("sh", "-c", "echo \"hello from $(uname -m)\"; exit 9");
        if (arch == "arm64") run.Set("QEMU_LD_PREFIX", "/usr/aarch64-linux-gnu");

        string[] emulator = arch == "arm64" ? ["qemu-aarch64-static"] : [];
        using var process = run.Start(emulator);
        var result = await run.CollectAsync(process);

        Assert.True(9 == result.ExitCode, result.Stdout + run.Stderr);
        Assert.Contains("hello from x86_64", result.Stdout); // the command itself is native, only the launcher is emulated
        Assert.Contains("[trainlauncher] exit status 9", result.Messages);
        Assert.Equal("hello from x86_64\n", result.Log);
    }
}
