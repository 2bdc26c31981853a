using TrainLauncher.Tests.Support;
using static TrainLauncher.Tests.Supervision.Supervised;

namespace TrainLauncher.Tests.Supervision;

/// <summary>
/// SPEC 13 "Signals": every catchable signal 1–31 sent to the launcher reaches the command, the
/// launcher lives on, and the job ends with the command's own status; as a child and as PID 1
/// (where the init passes the same set on). TSTP, TTIN and TTOU stop the launcher too until
/// SIGCONT. Not in the matrix: KILL and STOP (cannot be caught), CHLD (the launcher's own), SEGV
/// and FPE (the .NET runtime's: the README says why).
/// </summary>
public class SignalMatrixSpecs
{
    private static readonly int[] NotForwarded = [8, 9, 11, 17, 19];

    public static TheoryData<Mode, string> Cases()
    {
        var data = new TheoryData<Mode, string>();
        foreach (var mode in new[] { Mode.Child, Mode.Pid1 })
            foreach (int signal in Enumerable.Range(1, 31).Except(NotForwarded))
                data.Add(mode, Signals.Name(signal));
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Each_catchable_signal_reaches_the_command_and_the_job_ends_with_its_status(Mode mode, string signal)
    {
        using var dir = new TempDir();
        var run = new LauncherRun(dir).Args("--stop-grace", "120").Dummy("record", dir["got"], dir["ready"], dir["finish"], "3");
        using var process = Start(run, "launcher", mode);
        var collecting = run.CollectAsync(process, TimeSpan.FromSeconds(90));
        await WaitForFileAsync(dir["ready"], process);

        Signals.Send(SupervisorPid(process, mode), signal);
        await WaitUntilAsync(() => Got(dir).Contains($"got {signal}\n"), process, $"the command got {signal}");
        if (signal is "SIGTSTP" or "SIGTTIN" or "SIGTTOU")
        {
            int launcher = LauncherPid(process, mode);
            await WaitUntilAsync(() => State(launcher) == 'T', process, "the launcher stopped");
            Signals.Send(SupervisorPid(process, mode), "SIGCONT");
            await WaitUntilAsync(() => Got(dir).Contains("got SIGCONT\n"), process, "the command got SIGCONT");
            Assert.NotEqual('T', State(launcher));
        }
        // Once: as PID 1 both the init and the launcher pass signals on, and neither may repeat one.
        Assert.Single(Got(dir).Split('\n'), l => l == $"got {signal}");
        File.WriteAllText(dir["finish"], "");
        var result = await collecting;

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("command ended with exit status 3", result.Stdout);
    }

    private static string Got(TempDir dir) => File.Exists(dir["got"]) ? File.ReadAllText(dir["got"]) : "";
}
