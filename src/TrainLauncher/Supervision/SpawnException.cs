using System.Runtime.InteropServices;

namespace TrainLauncher.Supervision;

internal sealed class SpawnException(int errno, string what)
    : Exception($"{what}: {Marshal.GetPInvokeErrorMessage(errno)}")
{
    public int Errno { get; } = errno;
}
