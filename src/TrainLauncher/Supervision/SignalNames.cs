namespace TrainLauncher.Supervision;

internal static class SignalNames
{
    public static string Name(int signal) => signal switch
    {
        1 => "SIGHUP", 2 => "SIGINT", 3 => "SIGQUIT", 6 => "SIGABRT", 9 => "SIGKILL", 10 => "SIGUSR1",
        11 => "SIGSEGV", 12 => "SIGUSR2", 13 => "SIGPIPE", 14 => "SIGALRM", 15 => "SIGTERM",
        _ => $"signal {signal}",
    };
}
