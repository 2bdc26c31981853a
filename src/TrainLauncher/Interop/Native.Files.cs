using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace TrainLauncher.Interop;

/// <summary>
/// The file calls of the storage client's local side (Storage/LocalFiles): the type of an entry
/// without following it, and an open that cannot hang on a FIFO.
/// </summary>
internal static unsafe partial class Native
{
    public const int ENOTDIR = 20;
    public const int ELOOP = 40;
    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_CREAT = 0x40;
    public const int O_TRUNC = 0x200;

    /// <summary>One of the few open flags whose value differs between x86-64 and arm64.</summary>
    public static readonly int O_NOFOLLOW = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x8000 : 0x20000;

    public const int S_IFMT = 0xF000;
    public const int S_IFIFO = 0x1000;
    public const int S_IFCHR = 0x2000;
    public const int S_IFDIR = 0x4000;
    public const int S_IFBLK = 0x6000;
    public const int S_IFREG = 0x8000;
    public const int S_IFLNK = 0xA000;
    public const int S_IFSOCK = 0xC000;

    /// <summary>
    /// The leading fields of the runtime's own stat record (System.Native's FileStatus, what
    /// FileSystemInfo is built on): the same layout on every architecture and glibc version,
    /// unlike struct stat. Only the prefix is read; the size leaves room for the rest.
    /// </summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    public struct FileStatus
    {
        public int Flags;
        public int Mode;
        public uint Uid;
        public uint Gid;
        public long Size;
    }

    // The runtime's shim (statically linked into the NativeAOT binary) wraps lstat/fstat over
    // every glibc since 2.17, where the libc symbols themselves are versioned wrappers.
    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_LStat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int lstat(string path, out FileStatus status);

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_FStat", SetLastError = true)]
    public static partial int fstat(SafeFileHandle fd, out FileStatus status);

    /// <summary>open(2): a plain exported symbol in every glibc; the mode is ignored without O_CREAT.</summary>
    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int open(string path, int flags, int mode);
}
