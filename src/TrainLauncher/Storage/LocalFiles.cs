using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using TrainLauncher.Interop;

namespace TrainLauncher.Storage;

/// <summary>
/// The file-system calls .NET does not expose: the type of an entry without following it, and
/// an open that cannot hang. .NET opens a FIFO with a blocking open(2) (waiting for a writer
/// for ever) and reads /dev/zero for ever; an upload must only ever read regular files.
/// </summary>
internal static class LocalFiles
{
    /// <summary>The entry's kind and size (lstat: a symlink is reported as a link).</summary>
    public static (LocalFileKind Kind, long Size) Inspect(string path)
    {
        if (Native.lstat(path, out var status) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno is Native.ENOENT or Native.ENOTDIR ? (LocalFileKind.Missing, 0) : throw Failure(errno);
        }
        return (KindOf(status.Mode), status.Size);
    }

    /// <summary>
    /// Opens a regular file for reading, or throws <see cref="LocalFileException"/> with the
    /// reason. O_NONBLOCK: a FIFO swapped in after the walk opens at once (and is refused)
    /// instead of waiting for a writer. <paramref name="followLink"/> false refuses a symlink
    /// in the last component (O_NOFOLLOW), so nothing outside the walked tree is read.
    /// </summary>
    public static (SafeFileHandle Handle, long Size) OpenRegular(string path, bool followLink)
    {
        int flags = Native.O_RDONLY | Native.O_NONBLOCK | Native.O_CLOEXEC | (followLink ? 0 : Native.O_NOFOLLOW);
        int fd = Native.open(path, flags, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw errno == Native.ELOOP && !followLink
                ? new LocalFileException("a symbolic link; links are not followed")
                : Failure(errno);
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (Native.fstat(handle, out var status) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw Failure(errno);
        }
        var kind = KindOf(status.Mode);
        if (kind != LocalFileKind.Regular)
        {
            handle.Dispose();
            throw new LocalFileException(Describe(kind) + ", not a regular file");
        }
        return (handle, status.Size);
    }

    /// <summary>"a FIFO", "a socket", … for the line that says why an entry was skipped.</summary>
    public static string Describe(LocalFileKind kind) => kind switch
    {
        LocalFileKind.Fifo => "a FIFO",
        LocalFileKind.Socket => "a socket",
        LocalFileKind.CharacterDevice => "a character device",
        LocalFileKind.BlockDevice => "a block device",
        LocalFileKind.SymbolicLink => "a symbolic link",
        LocalFileKind.Directory => "a directory",
        LocalFileKind.Regular => "a regular file",
        LocalFileKind.Missing => "gone",
        _ => "not a file or directory",
    };

    private static LocalFileException Failure(int errno) => new(Marshal.GetPInvokeErrorMessage(errno));

    private static LocalFileKind KindOf(int mode) => (mode & Native.S_IFMT) switch
    {
        Native.S_IFREG => LocalFileKind.Regular,
        Native.S_IFDIR => LocalFileKind.Directory,
        Native.S_IFLNK => LocalFileKind.SymbolicLink,
        Native.S_IFIFO => LocalFileKind.Fifo,
        Native.S_IFSOCK => LocalFileKind.Socket,
        Native.S_IFCHR => LocalFileKind.CharacterDevice,
        Native.S_IFBLK => LocalFileKind.BlockDevice,
        _ => LocalFileKind.Other,
    };
}
