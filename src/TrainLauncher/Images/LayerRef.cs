namespace TrainLauncher.Images;

/// <summary>One layer: where its blob is in the archive and what identifies it across archives.</summary>
/// <param name="Blob">member name of the layer in the archive</param>
/// <param name="DiffId">digest of the uncompressed layer (config rootfs.diff_ids), when known</param>
/// <param name="Digest">digest of the blob as stored, when the archive names it</param>
internal sealed record LayerRef(string Blob, string? DiffId, string? Digest)
{
    /// <summary>The same layer in two archives: diff ids survive recompression, blob digests do not.</summary>
    public bool SameAs(LayerRef other) =>
        DiffId is not null && other.DiffId is not null ? DiffId == other.DiffId
        : Digest is not null && Digest == other.Digest;

    public string ShortId
    {
        get
        {
            string id = DiffId ?? Digest ?? Blob;
            int colon = id.IndexOf(':');
            return colon > 0 && id.Length > colon + 13 ? id[..(colon + 13)] : id;
        }
    }
}
