namespace TrainLauncher.Launch;

internal enum LogFormat { Text, Json }
