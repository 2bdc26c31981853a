namespace TrainLauncher.Images;

internal sealed record CheckSettings(BaseSelection Base, string Home = "/home/work", bool Batch = false);
