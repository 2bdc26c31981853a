namespace TrainLauncher.Images;

/// <summary>
/// One member of a layer. Path is absolute and lexically normalised (overlay layers are applied
/// by name; symlinks in the path are not followed). For whiteouts Path is what gets deleted:
/// the named path, or the directory whose lower contents an opaque marker hides. A hard link's
/// LinkTarget is the path of the file it shares (normalised the same way).
/// </summary>
internal readonly record struct LayerEntry(string Path, LayerEntryKind Kind, long Size, UnixFileMode Mode, int Uid, string? LinkTarget = null);
