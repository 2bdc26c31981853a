using System.Text.Json;
using System.Text.RegularExpressions;

namespace TrainLauncher.Images;

/// <summary>
/// Finds the layers of the one image in an archive: docker save's manifest.json (also written by
/// Docker 25+ beside an OCI layout) first, else the OCI index.json and its manifest blobs.
/// </summary>
internal static partial class ImageLayout
{
    private const int MaxJsonBytes = 16 << 20;

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
        using var manifest = ReadJson(files, "manifest.json");
        var images = manifest.RootElement;
        if (images.ValueKind != JsonValueKind.Array || images.GetArrayLength() == 0)
            throw Bad(files, "manifest.json", "expected a non-empty array of images");
        if (images.GetArrayLength() > 1)
            throw Bad(files, "manifest.json", $"holds {images.GetArrayLength()} images; save one image per archive");
        var image = images[0];
        string config = RequiredString(files, "manifest.json", image, "Config");
        if (!image.TryGetProperty("Layers", out var layers) || layers.ValueKind != JsonValueKind.Array)
            throw Bad(files, "manifest.json", "no Layers array");
        var blobs = new List<string>();
        foreach (var layer in layers.EnumerateArray())
            blobs.Add(layer.ValueKind == JsonValueKind.String ? layer.GetString()! : throw Bad(files, "manifest.json", "a layer is not a string"));
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
        using var index = ReadJson(files, "index.json");
        var manifestDigest = PickManifest(files, "index.json", index.RootElement);
        // An index may point at another index (multi-platform); follow it a few levels at most.
        for (int depth = 0; depth < 4; depth++)
        {
            string blob = BlobPath(files, "index.json", manifestDigest);
            RequireMember(files, "index.json", blob);
            using var document = ReadJson(files, blob);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("manifests", out _))
            {
                manifestDigest = PickManifest(files, blob, root);
                continue;
            }
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("layers", out var layers) || layers.ValueKind != JsonValueKind.Array)
                throw Bad(files, blob, "an image manifest without a layers array");
            if (!root.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
                throw Bad(files, blob, "an image manifest without a config");
            string configBlob = BlobPath(files, blob, RequiredString(files, blob, config, "digest"));
            var digests = new List<string>();
            foreach (var layer in layers.EnumerateArray())
                digests.Add(RequiredString(files, blob, layer, "digest"));
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
        throw Bad(files, "index.json", "indexes nested too deep");
    }

    private static string PickManifest(ImageFiles files, string name, JsonElement index)
    {
        if (index.ValueKind != JsonValueKind.Object || !index.TryGetProperty("manifests", out var manifests)
            || manifests.ValueKind != JsonValueKind.Array || manifests.GetArrayLength() == 0)
            throw Bad(files, name, "no manifests listed");
        if (manifests.GetArrayLength() == 1)
            return RequiredString(files, name, manifests[0], "digest");
        // Several entries: a multi-platform index; the platform runs linux/amd64 nodes.
        foreach (var entry in manifests.EnumerateArray())
        {
            if (entry.TryGetProperty("platform", out var platform)
                && platform.TryGetProperty("os", out var os) && os.ValueEquals("linux")
                && platform.TryGetProperty("architecture", out var arch) && arch.ValueEquals("amd64"))
                return RequiredString(files, name, entry, "digest");
        }
        throw Bad(files, name, $"holds {manifests.GetArrayLength()} images and none for linux/amd64; save one image per archive");
    }

    /// <summary>Config rootfs.diff_ids, or null when the config does not list one per layer.</summary>
    private static string[]? ReadDiffIds(ImageFiles files, string configName, int layerCount)
    {
        RequireMember(files, "the manifest", configName);
        using var config = ReadJson(files, configName);
        if (config.RootElement.ValueKind != JsonValueKind.Object
            || !config.RootElement.TryGetProperty("rootfs", out var rootfs)
            || !rootfs.TryGetProperty("diff_ids", out var ids) || ids.ValueKind != JsonValueKind.Array
            || ids.GetArrayLength() != layerCount)
            return null;
        return ids.EnumerateArray().Select(id => id.GetString() ?? "").ToArray();
    }

    private static JsonDocument ReadJson(ImageFiles files, string name)
    {
        using var stream = files.Open(name);
        if (stream.Length > MaxJsonBytes)
            throw Bad(files, name, $"{stream.Length} bytes is too large for image metadata");
        try
        {
            return JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw Bad(files, name, $"not valid JSON ({e.Message})");
        }
    }

    private static string RequiredString(ImageFiles files, string name, JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw Bad(files, name, $"missing \"{property}\"");

    private static void RequireMember(ImageFiles files, string referrer, string member)
    {
        if (!files.Contains(member))
            throw new ImageFormatException($"{files.Describe}: {referrer} names {member}, which is not in the archive");
    }

    /// <summary>blobs/ALG/HEX for a digest; the digest is checked so it cannot name a path outside blobs/.</summary>
    private static string BlobPath(ImageFiles files, string referrer, string digest) =>
        DigestPattern().IsMatch(digest)
            ? "blobs/" + digest.Replace(':', '/')
            : throw Bad(files, referrer, $"\"{digest}\" is not a digest");

    private static string? DigestOfBlobPath(string blob) =>
        blob.StartsWith("blobs/", StringComparison.Ordinal) && blob.Count(c => c == '/') == 2
            ? blob["blobs/".Length..].Replace('/', ':')
            : null;

    private static ImageFormatException Bad(ImageFiles files, string name, string why) =>
        new($"{files.Describe}: {name}: {why}");

    [GeneratedRegex("^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")]
    private static partial Regex DigestPattern();
}
