using System.Formats.Tar;
using System.Text;
using System.Text.Json.Nodes;
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
    [InlineData("""[{"Config":7,"Layers":[]}]""", "manifest.json: \"Config\" is not a string")]
    [InlineData("""["c.json"]""", "manifest.json: [0] is not an object")]
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

    [Theory]
    [InlineData("""{"rootfs":"layers"}""", "c.json: rootfs is not an object")]
    [InlineData("""{"rootfs":{"type":"layers","diff_ids":[1]}}""", "c.json: rootfs.diff_ids[0] is not a string")]
    [InlineData("""{"rootfs":{"type":"layers","diff_ids":"sha256:0"}}""", "c.json: rootfs.diff_ids is not an array")]
    [InlineData("""[{"rootfs":{}}]""", "c.json: the image config is not an object")]
    public void A_docker_config_of_the_wrong_shape_is_unreadable(string config, string expected)
    {
        using var dir = new TempDir();
        string path = dir.File("image.tar");
        using (var writer = new TarWriter(File.Create(path), TarEntryFormat.Pax))
        {
            TestImage.Write(writer, "l/layer.tar", BaseLayer().Tar());
            TestImage.Write(writer, "c.json", Encoding.UTF8.GetBytes(config));
            TestImage.Write(writer, "manifest.json", Encoding.UTF8.GetBytes("""[{"Config":"c.json","Layers":["l/layer.tar"]}]"""));
        }

        AssertUnreadable(ImageCheck.Run(path), expected);
    }

    /// <summary>
    /// OCI documents of the wrong shape: JSON that parses, with an array, number or string where
    /// an object or string belongs. MANIFEST and CONFIG stand for the image's real digests.
    /// </summary>
    [Theory]
    [InlineData("index", """{"manifests":[1,2]}""", "index.json: manifests[0] is not an object")]
    [InlineData("index", """{"manifests":[1]}""", "index.json: manifests[0] is not an object")]
    [InlineData("index", """{"manifests":[{"digest":7}]}""", "index.json: manifests[0]: \"digest\" is not a string")]
    [InlineData("index", """{"manifests":[{"digest":"MANIFEST","platform":"linux"},{"digest":"MANIFEST"}]}""", "index.json: manifests[0].platform is not an object")]
    [InlineData("index", """{"manifests":[{"digest":"MANIFEST","platform":{"os":1,"architecture":"amd64"}},{"digest":"MANIFEST"}]}""", "index.json: manifests[0].platform: \"os\" is not a string")]
    [InlineData("index", """{"manifests":[{"digest":"MANIFEST","platform":[]},{"digest":"MANIFEST"}]}""", "index.json: manifests[0].platform is not an object")]
    [InlineData("manifest", """{"config":{"digest":"CONFIG"},"layers":[{"digest":["sha256:0"]}]}""", "layers[0]: \"digest\" is not a string")]
    [InlineData("manifest", """{"config":{"digest":"CONFIG"},"layers":[5]}""", "layers[0] is not an object")]
    [InlineData("config", """{"rootfs":"layers"}""", "rootfs is not an object")]
    [InlineData("config", """{"rootfs":{"type":"layers","diff_ids":[1,2]}}""", "rootfs.diff_ids[0] is not a string")]
    [InlineData("config", """{"rootfs":{"type":"layers","diff_ids":["sha256:0",{"a":1}]}}""", "rootfs.diff_ids[1] is not a string")]
    [InlineData("config", "\"just text\"", "the image config is not an object")]
    public void An_oci_document_of_the_wrong_shape_is_unreadable(string document, string json, string expected)
    {
        using var dir = new TempDir();
        string layout = dir.File("oci");
        new TestImage(BaseLayer(), LauncherLayer()).WriteOciDirectory(layout);
        string index = Path.Combine(layout, "index.json");
        string manifestDigest = JsonNode.Parse(File.ReadAllText(index))!["manifests"]![0]!["digest"]!.GetValue<string>();
        string manifest = Path.Combine(layout, "blobs", manifestDigest.Replace(':', '/'));
        string configDigest = JsonNode.Parse(File.ReadAllText(manifest))!["config"]!["digest"]!.GetValue<string>();
        string config = Path.Combine(layout, "blobs", configDigest.Replace(':', '/'));
        File.WriteAllText(document switch { "index" => index, "manifest" => manifest, _ => config },
            json.Replace("MANIFEST", manifestDigest).Replace("CONFIG", configDigest));

        AssertUnreadable(ImageCheck.Run(layout), expected);
    }

    /// <summary>
    /// docker save before Docker 25 writes each layer as ID/layer.tar and a layer it already wrote
    /// as a symlink ID2/layer.tar -> ../ID/layer.tar (moby image/tarexport/save.go). The archive
    /// is sorted by name, so the symlink may come before its target, as here.
    /// </summary>
    [Fact]
    public void A_legacy_docker_save_that_repeats_a_layer_reads_the_repeat_through_its_symlink()
    {
        using var dir = new TempDir();
        var repeated = new TestLayer().File("usr/local/bin/tool");
        byte[][] tars = [BaseLayer().Tar(), repeated.Tar(), LauncherLayer().Tar()];
        string path = dir.File("legacy.tar");
        using (var writer = new TarWriter(File.Create(path), TarEntryFormat.Ustar))
        {
            writer.WriteEntry(new UstarTarEntry(TarEntryType.Directory, "1111-repeat/"));
            writer.WriteEntry(new UstarTarEntry(TarEntryType.SymbolicLink, "1111-repeat/layer.tar") { LinkName = "../3333-tool/layer.tar" });
            TestImage.Write(writer, "2222-base/layer.tar", tars[0]);
            TestImage.Write(writer, "3333-tool/layer.tar", tars[1]);
            TestImage.Write(writer, "4444-launcher/layer.tar", tars[2]);
            string diffIds = string.Join(',', new[] { tars[0], tars[1], tars[2], tars[1] }.Select(t => $"\"{TestImage.Sha256(t)}\""));
            TestImage.Write(writer, "c.json", Encoding.UTF8.GetBytes($$$"""{"rootfs":{"type":"layers","diff_ids":[{{{diffIds}}}]}}"""));
            TestImage.Write(writer, "manifest.json", Encoding.UTF8.GetBytes(
                """[{"Config":"c.json","Layers":["2222-base/layer.tar","3333-tool/layer.tar","4444-launcher/layer.tar","1111-repeat/layer.tar"]}]"""));
        }

        var (exit, lines) = ImageCheck.Run(path);

        Assert.Equal(CheckImageCommand.RulesBroken, exit);
        Assert.Equal(["/usr/local/bin/tool: added or changed under /usr (layer 2 ", "/usr/local/bin/tool: added or changed under /usr (layer 4 "],
            Findings(lines).Select(l => l[..l.IndexOf("sha256:", StringComparison.Ordinal)]));
        Assert.Equal($"check-image: {path} breaks 2 rule(s) (4 layers, 1 base, 0.00 GB)", lines[^1]);
    }

    [Theory]
    [InlineData("../2/layer.tar", "../1/layer.tar")] // a loop
    [InlineData("../9/layer.tar", "../1/layer.tar")] // to nothing
    [InlineData("/etc/passwd", "../1/layer.tar")] // out of the archive
    public void A_layer_symlink_that_loops_or_leads_nowhere_is_unreadable(string first, string second)
    {
        using var dir = new TempDir();
        string path = dir.File("image.tar");
        using (var writer = new TarWriter(File.Create(path), TarEntryFormat.Ustar))
        {
            writer.WriteEntry(new UstarTarEntry(TarEntryType.SymbolicLink, "1/layer.tar") { LinkName = first });
            writer.WriteEntry(new UstarTarEntry(TarEntryType.SymbolicLink, "2/layer.tar") { LinkName = second });
            TestImage.Write(writer, "c.json", Encoding.UTF8.GetBytes("{}"));
            TestImage.Write(writer, "manifest.json", Encoding.UTF8.GetBytes("""[{"Config":"c.json","Layers":["1/layer.tar"]}]"""));
        }

        AssertUnreadable(ImageCheck.Run(path), "manifest.json names 1/layer.tar, which is not in the archive");
    }

    /// <summary>A one-member ustar archive whose size field says more than a long holds (base-256, all ones).</summary>
    private static byte[] TarWithOversizedMember(string name)
    {
        var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Ustar, leaveOpen: true))
            writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream([1, 2, 3]) });
        byte[] tar = stream.ToArray();
        tar[124] = 0x80; // base-256 size: 0x80 then eleven 0xff bytes
        Array.Fill(tar, (byte)0xff, 125, 11);
        Array.Fill(tar, (byte)' ', 148, 8);
        int checksum = tar.Take(512).Sum(b => b);
        Encoding.ASCII.GetBytes(Convert.ToString(checksum, 8).PadLeft(6, '0') + "\0 ").CopyTo(tar, 148);
        return tar;
    }

    [Fact]
    public void A_size_field_larger_than_a_long_is_unreadable_not_a_crash()
    {
        // Found by the image fuzz target: TarReader throws OverflowException for such a header (was exit 134).
        using var dir = new TempDir();
        string path = dir.File("image.tar");
        File.WriteAllBytes(path, TarWithOversizedMember("manifest.json"));
        AssertUnreadable(ImageCheck.Run(path), "not a readable tar archive");
        Assert.DoesNotContain("internal error", ImageCheck.Run(path).Lines[0]);

        using (var writer = new TarWriter(File.Create(path), TarEntryFormat.Pax))
        {
            TestImage.Write(writer, "l/layer.tar", TarWithOversizedMember("opt/a"));
            TestImage.Write(writer, "c.json", Encoding.UTF8.GetBytes("{}"));
            TestImage.Write(writer, "manifest.json", Encoding.UTF8.GetBytes("""[{"Config":"c.json","Layers":["l/layer.tar"]}]"""));
        }
        AssertUnreadable(ImageCheck.Run(path), "layer 1 (l/layer.tar): unreadable layer");
    }

    // Found by the image fuzz target (the inputs are kept in its corpus): TarReader throws
    // InvalidOperationException for the one, NotSupportedException for the other (both were exit 134).
    [Theory]
    [InlineData("regression-gnu-long-name-too-large.tar", "is greater than the expected length")]
    [InlineData("regression-gnu-sparse-entry.tar", "Entry type 'SparseFile' not supported")]
    public void A_tar_entry_the_tar_reader_refuses_is_unreadable_not_a_crash(string corpusFile, string reason)
    {
        var (exit, lines) = ImageCheck.Run(ImageCheck.RepoFile("tests/fuzz/corpus/image/" + corpusFile));

        Assert.Equal(CheckImageCommand.Unreadable, exit);
        Assert.Contains(reason, Assert.Single(lines));
        Assert.DoesNotContain("internal error", lines[0]);
    }

    [Fact]
    public void Names_with_newlines_or_control_characters_cannot_forge_a_line()
    {
        using var dir = new TempDir();
        // ustar keeps the raw name in its header (System.Formats.Tar refuses a newline in a pax record).
        var layer = new MemoryStream();
        using (var writer = new TarWriter(layer, TarEntryFormat.Ustar, leaveOpen: true))
            writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "usr/bin/x\ncheck-image: all is clean\u0007\u001b[2K"));
        string path = dir.File("image.tar");
        using (var writer = new TarWriter(File.Create(path), TarEntryFormat.Pax))
        {
            TestImage.Write(writer, "base/layer.tar", BaseLayer().Tar());
            TestImage.Write(writer, "evil/layer.tar", layer.ToArray());
            TestImage.Write(writer, "c.json", Encoding.UTF8.GetBytes("{}"));
            TestImage.Write(writer, "manifest.json", Encoding.UTF8.GetBytes("""[{"Config":"c.json","Layers":["base/layer.tar","evil/layer.tar"]}]"""));
        }

        var (exit, lines) = ImageCheck.Run(path);

        Assert.True(exit == CheckImageCommand.RulesBroken, string.Join('\n', lines));
        Assert.Equal(2, lines.Length);
        Assert.Equal(@"/usr/bin/x\ncheck-image: all is clean\x07\x1b[2K: added or changed under /usr (layer 2 evil/layer.tar)", lines[0]);

        Assert.Single(ImageCheck.Run(path + "\nforged").Lines); // a missing archive named with a newline
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
