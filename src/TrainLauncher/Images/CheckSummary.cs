namespace TrainLauncher.Images;

internal sealed record CheckSummary(int LayerCount, int BaseLayerCount, long TotalBytes, int Findings);
