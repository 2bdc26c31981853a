using System.Text.Json;
using System.Text.RegularExpressions;

namespace TrainLauncher.Images;

/// <summary>
/// Finds the layers of the one image in an archive: docker save's manifest.json (also written by
/// Docker 25+ beside an OCI layout) first, else the OCI index.json and its manifest blobs.
/// </summary>
internal static partial class ImageLayout
{
    public static IReadOnlyList<LayerRef> ReadLayers(ImageFiles files)
    {
        if (files.Contains("manifest.json"))
            return ReadDockerSave(files);
        if (files.Contains("index.json"))
            return ReadOci(files);
        throw new ImageFormatException($"{files.Describe}: not an image: no manifest.json (docker save) or index.json (OCI)");
    }

    private static IReadOnlyList<LayerRef> ReadDockerSave(ImageFiles files)
    {
        using var manifest = ImageDocument.Read(files, "manifest.json");
        var images = manifest.Root;
        if (images.ValueKind != JsonValueKind.Array || images.GetArrayLength() == 0)
            throw manifest.Bad("expected a non-empty array of images");
        if (images.GetArrayLength() > 1)
            throw manifest.Bad($"holds {images.GetArrayLength()} images; save one image per archive");
        var image = manifest.Object(images[0], "[0]");
        string config = manifest.RequiredString(image, "", "Config");
        if (ImageDocument.Optional(image, "Layers") is not { ValueKind: JsonValueKind.Array } layers)
            throw manifest.Bad("no Layers array");
        var blobs = new List<string>();
        foreach (var (_, layer) in ImageDocument.Items(layers, "Layers"))
            blobs.Add(layer.ValueKind == JsonValueKind.String ? manifest.String(layer, "a layer") : throw manifest.Bad("a layer is not a string"));
        var diffIds = ReadDiffIds(files, config, blobs.Count);
        var result = new List<LayerRef>();
        for (int i = 0; i < blobs.Count; i++)
        {
            RequireMember(files, "manifest.json", blobs[i]);
            result.Add(new LayerRef(blobs[i], diffIds?[i], DigestOfBlobPath(blobs[i])));
        }
        return result;
    }

    private static IReadOnlyList<LayerRef> ReadOci(ImageFiles files)
    {
        string manifestDigest;
        using (var index = ImageDocument.Read(files, "index.json"))
            manifestDigest = PickManifest(index);
        // An index may point at another index (multi-platform); follow it a few levels at most.
        for (int depth = 0; depth < 4; depth++)
        {
            string blob = BlobPath(files, "index.json", manifestDigest);
            RequireMember(files, "index.json", blob);
            using var document = ImageDocument.Read(files, blob);
            var root = document.Root;
            if (ImageDocument.Optional(root, "manifests") is not null)
            {
                manifestDigest = PickManifest(document);
                continue;
            }
            if (ImageDocument.Optional(root, "layers") is not { ValueKind: JsonValueKind.Array } layers)
                throw document.Bad("an image manifest without a layers array");
            if (ImageDocument.Optional(root, "config") is not { ValueKind: JsonValueKind.Object } config)
                throw document.Bad("an image manifest without a config");
            string configBlob = BlobPath(files, blob, document.RequiredString(config, "config", "digest"));
            var digests = new List<string>();
            foreach (var (where, layer) in ImageDocument.Items(layers, "layers"))
                digests.Add(document.RequiredString(layer, where, "digest"));
            var diffIds = ReadDiffIds(files, configBlob, digests.Count);
            var result = new List<LayerRef>();
            for (int i = 0; i < digests.Count; i++)
            {
                string layerBlob = BlobPath(files, blob, digests[i]);
                RequireMember(files, blob, layerBlob);
                result.Add(new LayerRef(layerBlob, diffIds?[i], digests[i]));
            }
            return result;
        }
        throw new ImageFormatException($"{files.Describe}: index.json: indexes nested too deep");
    }

    private static string PickManifest(ImageDocument index)
    {
        if (ImageDocument.Optional(index.Root, "manifests") is not { ValueKind: JsonValueKind.Array } manifests
            || manifests.GetArrayLength() == 0)
            throw index.Bad("no manifests listed");
        var entries = ImageDocument.Items(manifests, "manifests").ToList();
        if (entries.Count == 1)
            return index.RequiredString(entries[0].Element, entries[0].Where, "digest");
        // Several entries: a multi-platform index; the platform runs linux/amd64 nodes.
        foreach (var (where, entry) in entries)
        {
            index.Object(entry, where);
            if (ImageDocument.Optional(entry, "platform") is not { } platform)
                continue;
            index.Object(platform, where + ".platform");
            if (OptionalString(index, platform, where + ".platform", "os") == "linux"
                && OptionalString(index, platform, where + ".platform", "architecture") == "amd64")
                return index.RequiredString(entry, where, "digest");
        }
        throw index.Bad($"holds {entries.Count} images and none for linux/amd64; save one image per archive");
    }

    private static string? OptionalString(ImageDocument document, JsonElement element, string where, string property) =>
        ImageDocument.Optional(element, property) is { } value ? document.String(value, $"{where}: \"{property}\"") : null;

    /// <summary>Config rootfs.diff_ids, or null when the config does not list one per layer.</summary>
    private static string[]? ReadDiffIds(ImageFiles files, string configName, int layerCount)
    {
        RequireMember(files, "the manifest", configName);
        using var config = ImageDocument.Read(files, configName);
        if (config.Root.ValueKind != JsonValueKind.Object)
            throw config.Bad("the image config is not an object");
        if (ImageDocument.Optional(config.Root, "rootfs") is not { } rootfs)
            return null;
        config.Object(rootfs, "rootfs");
        if (ImageDocument.Optional(rootfs, "diff_ids") is not { } ids)
            return null;
        var diffIds = ImageDocument.Items(config.Array(ids, "rootfs.diff_ids"), "rootfs.diff_ids")
            .Select(item => config.String(item.Element, item.Where))
            .ToArray();
        return diffIds.Length == layerCount ? diffIds : null;
    }

    private static void RequireMember(ImageFiles files, string referrer, string member)
    {
        if (!files.Contains(member))
            throw new ImageFormatException($"{files.Describe}: {referrer} names {member}, which is not in the archive");
    }

    /// <summary>blobs/ALG/HEX for a digest; the digest is checked so it cannot name a path outside blobs/.</summary>
    private static string BlobPath(ImageFiles files, string referrer, string digest) =>
        DigestPattern().IsMatch(digest)
            ? "blobs/" + digest.Replace(':', '/')
            : throw ImageDocument.Bad(files.Describe, referrer, $"\"{digest}\" is not a digest");

    private static string? DigestOfBlobPath(string blob) =>
        blob.StartsWith("blobs/", StringComparison.Ordinal) && blob.Count(c => c == '/') == 2
            ? blob["blobs/".Length..].Replace('/', ':')
            : null;

    [GeneratedRegex(@"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}\z")] // \z: $ would let a final newline through
    private static partial Regex DigestPattern();
}
