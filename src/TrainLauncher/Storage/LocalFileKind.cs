namespace TrainLauncher.Storage;

/// <summary>What an entry of a local tree is, from lstat (a symlink is itself, never its target).</summary>
internal enum LocalFileKind { Missing, Regular, Directory, SymbolicLink, Fifo, Socket, CharacterDevice, BlockDevice, Other }
