using TrainLauncher.Images;
using static TrainLauncher.Tests.Images.ImageCheck;

namespace TrainLauncher.Tests.Images;

/// <summary>Every rule, clean and broken, in every archive form, gzip and plain.</summary>
public sealed class ImageRuleSpecs
{
    private const UnixFileMode Setuid755 = (UnixFileMode)0b100_111_101_101;
    private const UnixFileMode Setgid755 = (UnixFileMode)0b010_111_101_101;

    [Theory]
    [InlineData(Form.DockerSave, false)]
    [InlineData(Form.DockerSave, true)]
    [InlineData(Form.OciArchive, false)]
    [InlineData(Form.OciArchive, true)]
    [InlineData(Form.OciDirectory, true)]
    public void An_image_that_only_adds_outside_protected_places_is_clean(Form form, bool gzip)
    {
        using var dir = new TempDir();
        string path = Write(new TestImage(BaseLayer(gzip), LauncherLayer(gzip)), dir, form);

        var (exit, lines) = ImageCheck.Run(path);

        Assert.Equal(CheckImageCommand.Clean, exit);
        Assert.Equal($"check-image: {path} is clean (2 layers, 1 base, 0.00 GB)", Assert.Single(lines));
    }

    /// <summary>Each case: what the non-base layer does, the path reported and the words of the rule.</summary>
    private static readonly Dictionary<string, (Func<TestLayer, TestLayer> Change, string Path, string Problem)> Broken = new()
    {
        ["adds under /usr"] = (l => l.File("usr/local/bin/tool"), "/usr/local/bin/tool", "added or changed under /usr"),
        ["changes /bin/sh"] = (l => l.File("bin/sh", "evil"), "/bin/sh", "added or changed under /bin"),
        ["adds under /sbin"] = (l => l.File("sbin/init"), "/sbin/init", "added or changed under /sbin"),
        ["changes /lib"] = (l => l.File("lib/libc.so.6"), "/lib/libc.so.6", "added or changed under /lib"),
        ["adds under /lib64"] = (l => l.File("./lib64/ld-linux-x86-64.so.2"), "/lib64/ld-linux-x86-64.so.2", "added or changed under /lib64"),
        ["replaces /lib64 by a symlink"] = (l => l.Symlink("lib64", "/opt/lib"), "/lib64", "added or changed under /lib64"),
        ["hard-links into /usr"] = (l => l.File("opt/x").HardLink("usr/bin/x", "opt/x"), "/usr/bin/x", "added or changed under /usr"),
        ["deletes from /usr"] = (l => l.Whiteout("usr/bin/python3"), "/usr/bin/python3", "deleted (whiteout) under /usr"),
        ["hides /usr/bin"] = (l => l.Opaque("usr/bin"), "/usr/bin", "contents hidden (opaque whiteout) under /usr"),
        ["changes /etc/passwd"] = (l => l.File("etc/passwd", "root::0:0"), "/etc/passwd", "protected /etc file changed"),
        ["adds /etc/ld.so.preload"] = (l => l.File("etc/ld.so.preload", "/opt/hook.so"), "/etc/ld.so.preload", "protected /etc file added"),
        ["adds to /etc/pam.d"] = (l => l.File("etc/pam.d/su"), "/etc/pam.d/su", "protected /etc file added"),
        ["symlinks /etc/resolv.conf"] = (l => l.Symlink("etc/resolv.conf", "/opt/resolv"), "/etc/resolv.conf", "protected /etc file added"),
        ["deletes /etc/shadow"] = (l => l.Whiteout("etc/shadow"), "/etc/shadow", "deleted (whiteout) of protected /etc files"),
        ["deletes all of /etc"] = (l => l.Whiteout("etc"), "/etc", "deleted (whiteout) of protected /etc files"),
        ["hides /etc"] = (l => l.Opaque("etc"), "/etc", "contents hidden (opaque whiteout) of protected /etc files"),
        ["changes run_train.sh"] = (l => l.File("home/work/run_train.sh", "exec evil"), "/home/work/run_train.sh", "platform tool in /home/work changed"),
        ["adds a dls- tool"] = (l => l.File("home/work/dls-key-client"), "/home/work/dls-key-client", "platform tool in /home/work added"),
        ["changes a base file of the home dir"] = (l => l.File("home/work/platform-helper"), "/home/work/platform-helper", "platform tool in /home/work changed"),
        ["deletes run_train.sh"] = (l => l.Whiteout("home/work/run_train.sh"), "/home/work/run_train.sh", "deleted (whiteout) of platform tools in /home/work"),
        ["deletes the home dir"] = (l => l.Whiteout("home/work"), "/home/work", "deleted (whiteout) of platform tools in /home/work"),
        ["hides the home dir"] = (l => l.Opaque("home/work"), "/home/work", "contents hidden (opaque whiteout) of platform tools in /home/work"),
        ["turns run_train.sh into a directory"] = (l => l.Dir("home/work/run_train.sh"), "/home/work/run_train.sh", "a protected file replaced by a directory"),
        ["adds a setuid root file"] = (l => l.File("opt/su", mode: Setuid755), "/opt/su", "new root-owned file with setuid/setgid (mode 4755)"),
        ["adds a setgid root file"] = (l => l.File("opt/sg", mode: Setgid755), "/opt/sg", "new root-owned file with setuid/setgid (mode 2755)"),
        ["hard-links a setuid root file"] = (l => l.File("opt/su", mode: Setuid755).HardLink("opt/su2", "opt/su", Setuid755), "/opt/su2", "new root-owned file with setuid/setgid (mode 4755)"),
        // The header of a hard link may claim any mode and owner: the file is the target's inode.
        ["hard-links the base's setuid sudo into the home dir"] = (l => l.HardLink("home/work/su", "usr/bin/sudo", (UnixFileMode)0b110_100_100, uid: 1000),
            "/home/work/su", "new root-owned file with setuid/setgid (mode 4755) via a hard link to /usr/bin/sudo"),
        ["hard-links a setuid file added in the same layer"] = (l => l.File("opt/su", mode: Setuid755).HardLink("opt/again", "opt/su", (UnixFileMode)0b110_100_100, uid: 1000),
            "/opt/again", "new root-owned file with setuid/setgid (mode 4755) via a hard link to /opt/su"),
    };

    public static TheoryData<string> BrokenCases => new(Broken.Keys);

    [Theory]
    [MemberData(nameof(BrokenCases))]
    public void A_layer_that_breaks_a_rule_is_reported_with_path_and_layer(string name)
    {
        var (change, path, problem) = Broken[name];
        foreach (var form in new[] { Form.DockerSave, Form.OciArchive })
        {
            using var dir = new TempDir();
            var image = new TestImage(BaseLayer(), LauncherLayer(gzip: true), change(new TestLayer { Gzip = form == Form.OciArchive }));
            string archive = Write(image, dir, form);

            var (exit, lines) = ImageCheck.Run(archive);

            Assert.Equal(CheckImageCommand.RulesBroken, exit);
            string line = Assert.Single(Findings(lines), l => l.StartsWith(path + ": ", StringComparison.Ordinal));
            Assert.StartsWith($"{path}: {problem} (layer 3 sha256:", line);
            Assert.EndsWith("rule(s) (3 layers, 1 base, 0.00 GB)", lines[^1]);
        }
    }

    [Fact]
    public void A_setuid_file_of_a_non_root_owner_is_allowed()
    {
        using var dir = new TempDir();
        var image = new TestImage(BaseLayer(), new TestLayer().File("opt/tool", mode: Setuid755, uid: 1000).File("opt/grp", mode: Setgid755, uid: 1000));

        var (exit, _) = ImageCheck.Run(Write(image, dir, Form.DockerSave));

        Assert.Equal(CheckImageCommand.Clean, exit);
    }

    [Fact]
    public void A_hard_link_to_a_base_file_without_setuid_is_allowed()
    {
        using var dir = new TempDir();
        var image = new TestImage(BaseLayer(), new TestLayer().HardLink("home/work/python", "usr/bin/python3", uid: 1000));

        var (exit, lines) = ImageCheck.Run(Write(image, dir, Form.DockerSave));

        Assert.True(exit == CheckImageCommand.Clean, string.Join('\n', lines));
    }

    [Fact]
    public void Deleting_unprotected_files_and_editing_unlisted_etc_files_is_allowed()
    {
        using var dir = new TempDir();
        var image = new TestImage(BaseLayer(), new TestLayer().File("opt/a").File("etc/motd", "hi"),
            new TestLayer { Gzip = true }.Whiteout("opt/a").Opaque("opt").Whiteout("etc/motd"));

        var (exit, lines) = ImageCheck.Run(Write(image, dir, Form.OciArchive));

        Assert.True(exit == CheckImageCommand.Clean, string.Join('\n', lines));
    }

    [Fact]
    public void The_base_layers_may_hold_anything()
    {
        using var dir = new TempDir();
        // The base's own setuid sudo, /usr and /etc files are trusted; only the third layer is checked.
        var image = new TestImage(BaseLayer(), new TestLayer().File("usr/bin/extra").File("etc/ssl/cert.pem"), LauncherLayer());

        Assert.Equal(CheckImageCommand.Clean, ImageCheck.Run(Write(image, dir, Form.DockerSave), "--base-layers", "2").Exit);
        var (exit, lines) = ImageCheck.Run(Write(image, dir, Form.DockerSave), "--base-layers=1");
        Assert.Equal(CheckImageCommand.RulesBroken, exit);
        Assert.Equal(2, Findings(lines).Length);
    }

    [Fact]
    public void The_home_dir_is_an_option()
    {
        using var dir = new TempDir();
        var image = new TestImage(BaseLayer(), new TestLayer().File("home/work/run_train.sh", "mine").File("home/ma-user/run_train.sh"));
        string archive = Write(image, dir, Form.DockerSave);

        var (exit, lines) = ImageCheck.Run(archive, "--home", "/home/ma-user/");

        Assert.Equal(CheckImageCommand.RulesBroken, exit);
        Assert.StartsWith("/home/ma-user/run_train.sh: platform tool in /home/ma-user added", Assert.Single(Findings(lines)));
    }

    [Theory]
    [InlineData(Form.DockerSave, Form.OciArchive)]
    [InlineData(Form.OciArchive, Form.DockerSave)]
    public void Base_layers_are_matched_by_diff_id_across_formats_and_compression(Form imageForm, Form baseForm)
    {
        using var dir = new TempDir();
        var baseImage = new TestImage(BaseLayer(gzip: true), new TestLayer { Gzip = true }.File("usr/bin/java"));
        var image = new TestImage(BaseLayer(), new TestLayer().File("usr/bin/java"), LauncherLayer());
        string basePath = Write(baseImage, dir, baseForm, "base");
        string imagePath = Write(image, dir, imageForm);

        var (exit, lines) = ImageCheck.Run(imagePath, "--base", basePath);

        Assert.Equal(CheckImageCommand.Clean, exit);
        Assert.Contains("(3 layers, 2 base,", lines[^1]);
    }

    [Fact]
    public void An_image_not_built_on_the_given_base_is_reported()
    {
        using var dir = new TempDir();
        string basePath = Write(new TestImage(BaseLayer(), new TestLayer().File("opt/base-only")), dir, Form.DockerSave, "base");
        string imagePath = Write(new TestImage(BaseLayer(), LauncherLayer()), dir, Form.DockerSave);

        var (exit, lines) = ImageCheck.Run(imagePath, "--base", basePath);

        Assert.Equal(CheckImageCommand.RulesBroken, exit);
        Assert.StartsWith($"/: not built on {basePath}: layer 2 is sha256:", Assert.Single(Findings(lines)));
    }

    [Fact]
    public void A_batch_image_needs_run_sh_python_java_and_zip()
    {
        using var dir = new TempDir();
        var tools = new TestLayer().File("usr/local/bin/python3.11").Symlink("usr/bin/java", "/etc/alternatives/java").File("opt/tools/bin/zip");
        var complete = new TestImage(BaseLayer(), tools, new TestLayer().File("home/run.sh", "exec /home/work/trainlauncher/trainlauncher"));
        Assert.Equal(CheckImageCommand.Clean, ImageCheck.Run(Write(complete, dir, Form.DockerSave), "--base-layers", "2", "--batch").Exit);

        // The same image without --batch is clean too; with it, a later layer deleting run.sh and zip breaks it.
        var broken = new TestImage(BaseLayer(), tools, new TestLayer().File("home/run.sh"), new TestLayer().Whiteout("home/run.sh").Whiteout("opt/tools"));
        string archive = Write(broken, dir, Form.OciArchive);
        var (exit, lines) = ImageCheck.Run(archive, "--base-layers", "3", "--batch");

        Assert.Equal(CheckImageCommand.RulesBroken, exit);
        Assert.Equal(
            ["/home/run.sh: missing: batch images start the job with /bin/sh /home/run.sh", "/: missing: batch images need zip in a bin directory"],
            Findings(lines));
        Assert.Equal(CheckImageCommand.Clean, ImageCheck.Run(Write(new TestImage(BaseLayer()), dir, Form.DockerSave)).Exit);
        Assert.Equal(3, Findings(ImageCheck.Run(Write(new TestImage(BaseLayer()), dir, Form.DockerSave), "--batch").Lines).Length);
    }
}
