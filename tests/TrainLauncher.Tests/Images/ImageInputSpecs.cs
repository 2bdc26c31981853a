using System.Formats.Tar;
using System.Text;
using TrainLauncher.Images;
using static TrainLauncher.Tests.Images.ImageCheck;

namespace TrainLauncher.Tests.Images;

/// <summary>The size rule on a declared 20 GB layer, and every kind of bad input: exit 2 with one line.</summary>
public sealed class ImageInputSpecs
{
    private const long TwentyGb = 20L << 30;

    /// <summary>docker save of a small base layer and a layer declaring one 20 GB file whose data is absent.</summary>
    private static VirtualArchive TwentyGbImage()
    {
        var archive = new VirtualArchive();
        byte[] baseLayer = BaseLayer().Tar();
        archive.Member("base/layer.tar", baseLayer);

        var inner = new VirtualArchive();
        inner.MemberHeader("data/big.bin", TwentyGb);
        long innerLength = inner.Length + TwentyGb + 1024;
        archive.MemberHeader("big/layer.tar", innerLength);
        archive.Bytes(ToArray(inner));
        archive.Absent(TwentyGb);
        archive.End(); // the inner archive's end blocks
        archive.Pad(innerLength);

        archive.Member("config.json", Encoding.UTF8.GetBytes("""{"rootfs":{"type":"layers","diff_ids":[]}}"""));
        archive.Member("manifest.json", Encoding.UTF8.GetBytes("""[{"Config":"config.json","Layers":["base/layer.tar","big/layer.tar"]}]"""));
        archive.End();
        return archive;
    }

    private static byte[] ToArray(VirtualArchive archive)
    {
        var memory = new MemoryStream();
        archive.OpenRead().CopyTo(memory);
        return memory.ToArray();
    }

    [Fact]
    public void A_declared_20_GB_layer_breaks_the_size_rule_without_its_data_being_read()
    {
        var archive = TwentyGbImage();
        var stream = archive.OpenRead();
        var findings = new List<string>();

        // The stream throws on any read inside the 20 GB of data, so passing proves it is skipped.
        using var files = ImageFiles.FromTar(stream, "virtual.tar");
        var summary = ImageChecker.Check(files, new CheckSettings(BaseSelection.Default), f => findings.Add(f.ToString()));

        Assert.InRange(summary.TotalBytes, TwentyGb, TwentyGb + 1024); // plus the base layer's few small files
        Assert.InRange(stream.BytesRead, 1, 64 * 1024);
        Assert.Equal("/data/big.bin: image is 21.47 GB, over the 9.50 GB limit; the largest file is 21.47 GB (layer 2 big/layer.tar)",
            Assert.Single(findings));
        Assert.True(archive.Length > TwentyGb);
    }

    [Fact]
    public void A_sparse_20_GB_archive_on_disk_is_refused_by_the_command()
    {
        using var dir = new TempDir();
        string path = dir.File("big.tar");
        TwentyGbImage().WriteSparse(path); // holes, not 20 GB of disk

        var (exit, lines) = ImageCheck.Run(path);

        Assert.Equal(CheckImageCommand.RulesBroken, exit);
        Assert.StartsWith("/data/big.bin: image is 21.47 GB, over the 9.50 GB limit", lines[0]);
        Assert.Equal($"check-image: {path} breaks 1 rule(s) (2 layers, 1 base, 21.47 GB)", lines[1]);
    }

    [Fact]
    public void An_image_just_under_the_limit_passes_the_size_rule()
    {
        var archive = new VirtualArchive();
        var inner = new VirtualArchive();
        inner.MemberHeader("data/big.bin", 9_400_000_000);
        long innerLength = inner.Length + 9_400_000_000 + 512 + 1024;
        archive.MemberHeader("big/layer.tar", innerLength);
        archive.Bytes(ToArray(inner));
        archive.Absent(9_400_000_000);
        archive.Bytes(new byte[512 + 1024]); // padding of the inner file, then its end blocks
        archive.Pad(innerLength);
        archive.Member("config.json", Encoding.UTF8.GetBytes("{}"));
        archive.Member("manifest.json", Encoding.UTF8.GetBytes("""[{"Config":"config.json","Layers":["big/layer.tar"]}]"""));
        archive.End();

        using var files = ImageFiles.FromTar(archive.OpenRead(), "virtual.tar");
        var summary = ImageChecker.Check(files, new CheckSettings(BaseSelection.Default), f => Assert.Fail(f.ToString()));

        Assert.Equal(9_400_000_000, summary.TotalBytes);
    }

    private static void AssertUnreadable((int Exit, string[] Lines) result, string expected)
    {
        Assert.Equal(CheckImageCommand.Unreadable, result.Exit);
        Assert.Contains(expected, Assert.Single(result.Lines));
        Assert.StartsWith("check-image: ", result.Lines[0]);
    }

    [Fact]
    public void A_truncated_archive_is_unreadable()
    {
        using var dir = new TempDir();
        string path = Write(new TestImage(BaseLayer(), LauncherLayer()), dir, Form.DockerSave);
        byte[] whole = File.ReadAllBytes(path);

        File.WriteAllBytes(path, whole[..(whole.Length / 3)]);
        AssertUnreadable(ImageCheck.Run(path), "truncated archive");

        File.WriteAllBytes(path, whole[..300]); // inside the first header
        AssertUnreadable(ImageCheck.Run(path), path);
    }

    [Fact]
    public void A_truncated_gzip_layer_is_unreadable()
    {
        using var dir = new TempDir();
        string path = dir.File("image.tar");
        byte[] layer = new TestLayer { Gzip = true }.File("opt/a", new string('a', 5000)).File("opt/b", Guid.NewGuid().ToString()).Blob();
        using (var writer = new TarWriter(File.Create(path), TarEntryFormat.Pax))
        {
            TestImage.Write(writer, "l/layer.tar", layer[..(layer.Length / 2)]);
            TestImage.Write(writer, "c.json", Encoding.UTF8.GetBytes("{}"));
            TestImage.Write(writer, "manifest.json", Encoding.UTF8.GetBytes("""[{"Config":"c.json","Layers":["l/layer.tar"]}]"""));
        }

        AssertUnreadable(ImageCheck.Run(path), "layer 1 (l/layer.tar): unreadable layer");
    }

    [Theory]
    [InlineData("text")]
    [InlineData("random")]
    [InlineData("empty")]
    public void A_file_that_is_not_a_tar_is_unreadable(string kind)
    {
        using var dir = new TempDir();
        string path = dir.File("image.tar");
        File.WriteAllBytes(path, kind switch
        {
            "text" => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("this is not an image archive\n", 100))),
            "random" => new Random(7).GetItems<byte>(Enumerable.Range(0, 256).Select(i => (byte)i).ToArray(), 8192),
            _ => [],
        });

        AssertUnreadable(ImageCheck.Run(path), path);
    }

    [Fact]
    public void A_layer_that_is_not_a_tar_is_unreadable()
    {
        using var dir = new TempDir();
        string path = dir.File("image.tar");
        using (var writer = new TarWriter(File.Create(path), TarEntryFormat.Pax))
        {
            TestImage.Write(writer, "l/layer.tar", new Random(3).GetItems<byte>([1, 2, 3, 200], 4096));
            TestImage.Write(writer, "c.json", Encoding.UTF8.GetBytes("{}"));
            TestImage.Write(writer, "manifest.json", Encoding.UTF8.GetBytes("""[{"Config":"c.json","Layers":["l/layer.tar"]}]"""));
        }

        AssertUnreadable(ImageCheck.Run(path), "layer 1 (l/layer.tar): unreadable layer");
    }

    [Theory]
    [InlineData("""[{"Config":"c.json","Layers":["missing/layer.tar"]}]""", "manifest.json names missing/layer.tar, which is not in the archive")]
    [InlineData("""[{"Config":"gone.json","Layers":[]}]""", "names gone.json, which is not in the archive")]
    [InlineData("""[{"Config":"c.json"}]""", "manifest.json: no Layers array")]
    [InlineData("""[{"Layers":[]}]""", "manifest.json: missing \"Config\"")]
    [InlineData("""[]""", "manifest.json: expected a non-empty array of images")]
    [InlineData("""[{"Config":"c.json","Layers":[]},{"Config":"c.json","Layers":[]}]""", "holds 2 images; save one image per archive")]
    [InlineData("""{"Config": """, "manifest.json: not valid JSON")]
    [InlineData("""[{"Config":"c.json","Layers":[7]}]""", "a layer is not a string")]
    public void A_bad_docker_manifest_is_unreadable(string manifest, string expected)
    {
        using var dir = new TempDir();
        string path = dir.File("image.tar");
        using (var writer = new TarWriter(File.Create(path), TarEntryFormat.Pax))
        {
            TestImage.Write(writer, "c.json", Encoding.UTF8.GetBytes("{}"));
            TestImage.Write(writer, "manifest.json", Encoding.UTF8.GetBytes(manifest));
        }

        AssertUnreadable(ImageCheck.Run(path), expected);
    }

    [Theory]
    [InlineData("""{"manifests":[{"digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000"}]}""", "which is not in the archive")]
    [InlineData("""{"manifests":[{"digest":"sha256:../../../etc/passwd"}]}""", "is not a digest")]
    [InlineData("""{"manifests":[]}""", "index.json: no manifests listed")]
    [InlineData("""{"manifests":[{"digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111"},{"digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222"}]}""", "holds 2 images and none for linux/amd64")]
    public void A_bad_oci_index_is_unreadable(string index, string expected)
    {
        using var dir = new TempDir();
        string layout = dir.File("oci");
        new TestImage(BaseLayer()).WriteOciDirectory(layout);
        File.WriteAllText(Path.Combine(layout, "index.json"), index);

        AssertUnreadable(ImageCheck.Run(layout), expected);
    }

    [Fact]
    public void An_oci_manifest_pointing_at_a_missing_layer_is_unreadable()
    {
        using var dir = new TempDir();
        string layout = dir.File("oci");
        var layer = new TestLayer().File("opt/a");
        new TestImage(layer).WriteOciDirectory(layout);
        string blob = TestImage.Sha256(layer.Blob()).Replace(':', '/');
        File.Delete(Path.Combine(layout, "blobs", blob));

        AssertUnreadable(ImageCheck.Run(layout), $"names blobs/{blob}, which is not in the archive");
    }

    [Fact]
    public void A_tar_without_image_metadata_is_not_an_image()
    {
        using var dir = new TempDir();
        string path = dir.File("rootfs.tar");
        File.WriteAllBytes(path, BaseLayer().Tar());

        AssertUnreadable(ImageCheck.Run(path), "not an image: no manifest.json (docker save) or index.json (OCI)");
    }

    [Fact]
    public void A_zstd_layer_is_refused_with_what_to_do()
    {
        using var dir = new TempDir();
        string path = dir.File("image.tar");
        using (var writer = new TarWriter(File.Create(path), TarEntryFormat.Pax))
        {
            TestImage.Write(writer, "l/layer.tar", [0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
            TestImage.Write(writer, "c.json", Encoding.UTF8.GetBytes("{}"));
            TestImage.Write(writer, "manifest.json", Encoding.UTF8.GetBytes("""[{"Config":"c.json","Layers":["l/layer.tar"]}]"""));
        }

        AssertUnreadable(ImageCheck.Run(path), "zstd-compressed layers are not supported");
    }

    [Theory]
    [InlineData(new string[0], "no image archive given")]
    [InlineData(new[] { "a.tar", "b.tar" }, "one image at a time")]
    [InlineData(new[] { "a.tar", "--frobnicate" }, "unknown option --frobnicate")]
    [InlineData(new[] { "a.tar", "--base-layers", "two" }, "--base-layers needs a whole number, not \"two\"")]
    [InlineData(new[] { "a.tar", "--base-layers", "-1" }, "--base-layers needs a whole number")]
    [InlineData(new[] { "a.tar", "--base-layers" }, "--base-layers needs a whole number")]
    [InlineData(new[] { "a.tar", "--base" }, "--base needs an image archive")]
    [InlineData(new[] { "a.tar", "--base", "b.tar", "--base-layers", "1" }, "give --base or --base-layers, not both")]
    [InlineData(new[] { "a.tar", "--home", "work" }, "--home needs an absolute path")]
    [InlineData(new[] { "a.tar", "--batch=yes" }, "--batch takes no value")]
    public void Bad_arguments_give_one_line_with_the_usage(string[] args, string expected)
    {
        var result = ImageCheck.Run(args);

        AssertUnreadable(result, expected);
        Assert.EndsWith(CheckImageCommand.Usage, result.Lines[0]);
    }

    [Fact]
    public void Help_prints_the_usage()
    {
        var (exit, lines) = ImageCheck.Run("--help");

        Assert.Equal(CheckImageCommand.Clean, exit);
        Assert.Equal(CheckImageCommand.Usage, Assert.Single(lines));
    }

    [Fact]
    public void Missing_files_and_impossible_base_layer_counts_are_unreadable()
    {
        using var dir = new TempDir();
        string image = Write(new TestImage(BaseLayer(), LauncherLayer()), dir, Form.DockerSave);

        AssertUnreadable(ImageCheck.Run(dir.File("nope.tar")), "nope.tar: no such file or directory");
        AssertUnreadable(ImageCheck.Run(image, "--base", dir.File("nope.tar")), "nope.tar: no such file or directory");
        AssertUnreadable(ImageCheck.Run(image, "--base-layers", "3"), "--base-layers 3, but the image has 2 layers");
    }
}
