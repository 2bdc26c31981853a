using System.Formats.Tar;
using TrainLauncher.Images;

namespace TrainLauncher.Tests.Images;

/// <summary>
/// A real OCI image made by Debian's umoci (tests/setup/umoci.sh installs it): a small rootfs as
/// the base layer, the launcher as the second, then layers that break rules, with the whiteouts
/// and modes umoci itself writes.
/// </summary>
public sealed class UmociImageSpecs : IDisposable
{
    private readonly TempDir _dir = new();
    private string Layout => _dir.File("layout");
    private string Bundle => _dir.File("bundle");
    private string Rootfs => Path.Combine(Bundle, "rootfs");

    public void Dispose() => _dir.Dispose();

    [SkippableFact]
    public void An_umoci_image_is_clean_until_a_layer_breaks_a_rule()
    {
        EnsureUmoci();
        Umoci("init", "--layout", Layout);
        Umoci("new", "--image", Layout + ":latest");
        Umoci("unpack", "--image", Layout + ":latest", Bundle);

        WriteFile("usr/bin/python3");
        WriteFile("etc/passwd", "root:x:0:0::/root:/bin/sh\n");
        WriteFile("home/work/run_train.sh", "#!/bin/sh\n");
        WriteFile("usr/bin/sudo", mode: "4755");
        Repack(); // layer 1: the base

        WriteFile("home/work/trainlauncher/trainlauncher", mode: "755");
        WriteFile("opt/tool", mode: "4755", owner: "1000:1000"); // setuid, not root: allowed
        Repack(); // layer 2: what our Dockerfile adds

        var clean = ImageCheck.Run(Layout, "--base-layers", "1");
        Assert.True(clean.Exit == CheckImageCommand.Clean, string.Join('\n', clean.Lines));
        Assert.Equal(CheckImageCommand.Clean, ImageCheck.Run(TarOf(Layout), "--base-layers", "1").Exit);

        WriteFile("etc/passwd", "root::0:0::/root:/bin/sh\n");
        File.Delete(Path.Combine(Rootfs, "home/work/run_train.sh"));
        WriteFile("opt/su", mode: "4755");
        Repack(); // layer 3: breaks three rules

        foreach (string image in new[] { Layout, TarOf(Layout) })
        {
            var (exit, lines) = ImageCheck.Run(image, "--base-layers", "1");

            Assert.Equal(CheckImageCommand.RulesBroken, exit);
            var findings = ImageCheck.Findings(lines).Select(l => l[..l.IndexOf(" (layer 3 sha256:", StringComparison.Ordinal)]).Order();
            Assert.Equal(
            [
                "/etc/passwd: protected /etc file changed",
                "/home/work/run_train.sh: deleted (whiteout) of platform tools in /home/work",
                "/opt/su: new root-owned file with setuid/setgid (mode 4755)",
            ], findings);
        }
    }

    private static void EnsureUmoci()
    {
        string script = ImageCheck.RepoFile("tests/setup/umoci.sh");
        var (code, output) = ImageCheck.Exec("bash", script);
        Skip.If(code != 0, $"umoci could not be installed (apt unavailable?): {output}");
    }

    private void WriteFile(string path, string content = "x\n", string mode = "644", string owner = "0:0")
    {
        string full = Path.Combine(Rootfs, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        Run("chown", owner, full);
        Run("chmod", mode, full); // after chown, which clears setuid bits
    }

    private void Repack() => Umoci("repack", "--refresh-bundle", "--image", Layout + ":latest", Bundle);

    private string TarOf(string layout)
    {
        string archive = _dir.File($"layout-{Directory.GetFiles(Path.Combine(layout, "blobs", "sha256")).Length}.tar");
        TarFile.CreateFromDirectory(layout, archive, includeBaseDirectory: false);
        return archive;
    }

    private static void Umoci(params string[] args) => Run("umoci", args);

    private static void Run(string file, params string[] args)
    {
        var (code, output) = ImageCheck.Exec(file, args);
        Assert.True(code == 0, $"{file} {string.Join(' ', args)} failed ({code}): {output}");
    }
}
