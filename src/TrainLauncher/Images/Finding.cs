namespace TrainLauncher.Images;

/// <summary>One broken rule. Layer 0 means the image as a whole.</summary>
internal sealed record Finding(string Path, string Problem, int Layer = 0, string LayerId = "")
{
    public override string ToString() =>
        Layer > 0 ? $"{Path}: {Problem} (layer {Layer} {LayerId})" : $"{Path}: {Problem}";
}
