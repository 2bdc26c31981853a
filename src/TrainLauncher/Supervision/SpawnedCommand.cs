namespace TrainLauncher.Supervision;

/// <summary>A started command: its pid (also its process-group id) and the read end of the
/// one pipe that carries its merged stdout and stderr.</summary>
internal sealed record SpawnedCommand(int Pid, int OutputFd);
