namespace TrainLauncher.Images;

/// <summary>Which leading layers are the base image's, the trusted part.</summary>
internal abstract record BaseSelection
{
    /// <summary>The layers of a base image archive, matched by diff id (or blob digest).</summary>
    public sealed record Layers(IReadOnlyList<LayerRef> BaseLayers, string Name) : BaseSelection;

    public sealed record FirstLayers(int Count) : BaseSelection;

    /// <summary>Without --base or --base-layers the first layer is taken as the base.</summary>
    public static readonly BaseSelection Default = new FirstLayers(1);
}
