using System.Globalization;

namespace TrainLauncher.Images;

/// <summary>
/// Walks the layers of an image once, in order, and reports every broken rule. Memory holds only
/// the base's protected home/etc paths and setuid files, and the few paths batch images need.
/// </summary>
internal sealed class ImageChecker
{
    private readonly CheckSettings _settings;
    private readonly Action<Finding> _report;
    private readonly HashSet<string> _baseProtected = new(StringComparer.Ordinal);
    private readonly HashSet<string> _baseSetuidRoot = new(StringComparer.Ordinal);
    /// <summary>Every root-owned setuid/setgid file of the layers so far, base or not, by path: a hard link shares its mode.</summary>
    private readonly Dictionary<string, UnixFileMode> _setuidRoot = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _batchPaths = new(StringComparer.Ordinal);
    private long _totalBytes;
    private (string Path, long Size, int Layer, string LayerId) _largest = ("/", 0, 0, "");
    private int _findings;

    private ImageChecker(CheckSettings settings, Action<Finding> report)
    {
        _settings = settings;
        _report = report;
    }

    public static CheckSummary Check(ImageFiles image, CheckSettings settings, Action<Finding> report) =>
        new ImageChecker(settings, report).Run(image);

    private CheckSummary Run(ImageFiles image)
    {
        var layers = ImageLayout.ReadLayers(image);
        int baseCount = BaseCount(layers);
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            int number = i + 1;
            using var blob = image.Open(layer.Blob);
            foreach (var entry in LayerReader.Read(blob, $"{image.Describe}: layer {number} ({layer.Blob})"))
            {
                Account(entry, number, layer.ShortId);
                TrackBatch(entry, number);
                var setuid = SetuidRootMode(entry);
                if (i < baseCount)
                    RecordBase(entry, setuid);
                else
                    CheckEntry(entry, setuid, number, layer.ShortId);
                TrackSetuid(entry, setuid);
            }
        }
        if (_totalBytes > ImageRules.MaxImageBytes)
            Report(new Finding(_largest.Path,
                $"image is {Gb(_totalBytes)}, over the {Gb(ImageRules.MaxImageBytes)} limit; the largest file is {Gb(_largest.Size)}",
                _largest.Layer, _largest.LayerId));
        if (_settings.Batch)
            ReportBatchNeeds();
        return new CheckSummary(layers.Count, baseCount, _totalBytes, _findings);
    }

    private int BaseCount(IReadOnlyList<LayerRef> layers)
    {
        switch (_settings.Base)
        {
            case BaseSelection.FirstLayers first:
                if (first.Count > layers.Count)
                    throw new ImageFormatException($"--base-layers {first.Count}, but the image has {layers.Count} layers");
                return first.Count;
            case BaseSelection.Layers base_:
                int matched = 0;
                while (matched < base_.BaseLayers.Count && matched < layers.Count && layers[matched].SameAs(base_.BaseLayers[matched]))
                    matched++;
                if (matched < base_.BaseLayers.Count)
                    Report(new Finding("/", matched < layers.Count
                        ? $"not built on {base_.Name}: layer {matched + 1} is {layers[matched].ShortId}, the base has {base_.BaseLayers[matched].ShortId}"
                        : $"not built on {base_.Name}: the image has {layers.Count} layers, the base {base_.BaseLayers.Count}"));
                return matched;
            default:
                throw new InvalidOperationException("unknown base selection");
        }
    }

    private void Account(LayerEntry entry, int layer, string layerId)
    {
        // Declared sizes from the headers: every layer ships, so overwritten files count too.
        _totalBytes += entry.Size;
        if (entry.Size > _largest.Size)
            _largest = (entry.Path, entry.Size, layer, layerId);
    }

    private void RecordBase(LayerEntry entry, UnixFileMode? setuid)
    {
        switch (entry.Kind)
        {
            case LayerEntryKind.Whiteout or LayerEntryKind.OpaqueWhiteout:
                bool self = entry.Kind == LayerEntryKind.Whiteout;
                _baseProtected.RemoveWhere(path => Covers(entry.Path, self, path));
                _baseSetuidRoot.RemoveWhere(path => Covers(entry.Path, self, path));
                return;
            case LayerEntryKind.Directory:
                return;
        }
        if (ImageRules.IsProtectedEtc(entry.Path) || LayerReader.ParentOf(entry.Path) == _settings.Home)
            _baseProtected.Add(entry.Path);
        if (setuid is not null)
            _baseSetuidRoot.Add(entry.Path);
    }

    private void CheckEntry(LayerEntry entry, UnixFileMode? setuid, int layer, string layerId)
    {
        void Broken(string problem) => Report(new Finding(entry.Path, problem, layer, layerId));

        switch (entry.Kind)
        {
            case LayerEntryKind.Whiteout:
                if (DeletionProblem(entry.Path, includeSelf: true) is { } deleted)
                    Broken("deleted (whiteout) " + deleted);
                return;
            case LayerEntryKind.OpaqueWhiteout:
                if (DeletionProblem(entry.Path, includeSelf: false) is { } hidden)
                    Broken("contents hidden (opaque whiteout) " + hidden);
                return;
            case LayerEntryKind.Directory:
                // Directory entries only restate parents of added files; one that replaces a
                // protected file is still a change.
                if (_baseProtected.Contains(entry.Path) || ImageRules.ProtectedEtcFiles.Contains(entry.Path)
                    || ImageRules.IsPlatformToolName(entry.Path, _settings.Home))
                    Broken("a protected file replaced by a directory");
                return;
        }
        string change = _baseProtected.Contains(entry.Path) ? "changed" : "added";
        if (ImageRules.SystemDirectoryOf(entry.Path) is { } system)
            Broken($"added or changed under {system}");
        else if (ImageRules.IsProtectedEtc(entry.Path))
            Broken($"protected /etc file {change}");
        else if (LayerReader.ParentOf(entry.Path) == _settings.Home
                 && (_baseProtected.Contains(entry.Path) || ImageRules.IsPlatformToolName(entry.Path, _settings.Home)))
            Broken($"platform tool in {_settings.Home} {change}");
        if (setuid is { } mode && !_baseSetuidRoot.Contains(entry.Path))
            Broken($"new root-owned file with setuid/setgid (mode {Octal(mode)})"
                + (IsSetuidRoot(entry) ? "" : $" via a hard link to {entry.LinkTarget}"));
    }

    /// <summary>
    /// The mode of a root-owned setuid/setgid file, as its header says or, for a hard link, as
    /// the file it shares is (a link's header may claim any mode and owner); null for any other entry.
    /// </summary>
    private UnixFileMode? SetuidRootMode(LayerEntry entry) =>
        IsSetuidRoot(entry) ? entry.Mode
        : entry is { Kind: LayerEntryKind.HardLink, LinkTarget: { } target } && _setuidRoot.TryGetValue(target, out var mode) ? mode
        : null;

    private void TrackSetuid(LayerEntry entry, UnixFileMode? setuid)
    {
        switch (entry.Kind)
        {
            case LayerEntryKind.Whiteout or LayerEntryKind.OpaqueWhiteout:
                bool self = entry.Kind == LayerEntryKind.Whiteout;
                foreach (var path in _setuidRoot.Keys.Where(path => Covers(entry.Path, self, path)).ToList())
                    _setuidRoot.Remove(path);
                break;
            default:
                if (setuid is { } mode)
                    _setuidRoot[entry.Path] = mode;
                else
                    _setuidRoot.Remove(entry.Path);
                break;
        }
    }

    /// <summary>What a deletion of root (and below it, or only below it for an opaque marker) removes that is protected.</summary>
    private string? DeletionProblem(string root, bool includeSelf)
    {
        foreach (var system in ImageRules.SystemDirectories)
        {
            if (ImageRules.IsUnder(root, system) || Covers(root, includeSelf, system))
                return $"under {system}";
        }
        if ((includeSelf && ImageRules.IsProtectedEtc(root))
            || ImageRules.ProtectedEtcDirectories.Any(dir => ImageRules.IsUnder(root, dir) || Covers(root, includeSelf, dir))
            || ImageRules.ProtectedEtcFiles.Any(file => Covers(root, includeSelf, file)))
            return "of protected /etc files";
        if ((includeSelf && ImageRules.IsPlatformToolName(root, _settings.Home))
            || _baseProtected.Any(path => !ImageRules.IsProtectedEtc(path) && Covers(root, includeSelf, path)))
            return $"of platform tools in {_settings.Home}";
        return null;
    }

    private void TrackBatch(LayerEntry entry, int layer)
    {
        if (!_settings.Batch)
            return;
        if (entry.Kind is LayerEntryKind.Whiteout or LayerEntryKind.OpaqueWhiteout)
        {
            // Whiteouts delete from lower layers only.
            bool self = entry.Kind == LayerEntryKind.Whiteout;
            foreach (var path in _batchPaths.Where(p => p.Value < layer && Covers(entry.Path, self, p.Key)).Select(p => p.Key).ToList())
                _batchPaths.Remove(path);
        }
        else if (entry.Kind != LayerEntryKind.Directory && ImageRules.BatchToolOf(entry.Path) is not null)
        {
            _batchPaths[entry.Path] = layer;
        }
    }

    private void ReportBatchNeeds()
    {
        var present = _batchPaths.Keys.Select(ImageRules.BatchToolOf).ToHashSet();
        foreach (var need in ImageRules.BatchNeeds.Where(need => !present.Contains(need)))
            Report(new Finding(need == ImageRules.BatchScript ? need : "/", need == ImageRules.BatchScript
                ? "missing: batch images start the job with /bin/sh /home/run.sh"
                : $"missing: batch images need {need} in a bin directory"));
    }

    private void Report(Finding finding)
    {
        _findings++;
        _report(finding);
    }

    private static bool Covers(string root, bool includeSelf, string path) =>
        includeSelf ? ImageRules.IsUnder(path, root) : ImageRules.IsStrictlyUnder(path, root);

    private static bool IsSetuidRoot(LayerEntry entry) =>
        entry.Kind is LayerEntryKind.File or LayerEntryKind.HardLink
        && entry.Uid == 0
        && (entry.Mode & (UnixFileMode.SetUser | UnixFileMode.SetGroup)) != 0;

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');

    public static string Gb(long bytes) => (bytes / 1e9).ToString("0.00", CultureInfo.InvariantCulture) + " GB";
}
