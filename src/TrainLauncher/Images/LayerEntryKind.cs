namespace TrainLauncher.Images;

internal enum LayerEntryKind { Directory, File, HardLink, Symlink, Other, Whiteout, OpaqueWhiteout }
