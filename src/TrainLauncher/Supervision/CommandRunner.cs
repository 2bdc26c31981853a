using System.Diagnostics;
using Microsoft.Extensions.Logging;
using TrainLauncher.Cluster;
using TrainLauncher.Interop;
using TrainLauncher.Launch;
using TrainLauncher.Output;
using TrainLauncher.Reporting;
using TrainLauncher.Secrets;

namespace TrainLauncher.Supervision;

/// <summary>
/// Step 9: finds the program, waits for the master on a multi-node job, starts the command,
/// pumps its output to stdout and the log, forwards signals (stop signal → grace for the whole
/// job → SIGKILL), ends what it left behind and drains the pipe. Returns the command's status
/// (128+N for a signal; 124 when the hang watchdog stopped it). With --per-device the same for
/// every worker at once (<see cref="RunWorkersAsync"/>); without it, one command on its own pipe.
/// </summary>
internal sealed class CommandRunner(LaunchOptions options, ConsoleGate console, SignalHub signals, RunState state, ILogger log)
{
    public async Task<int> RunAsync(LaunchPlan plan, SecretSet secrets, JobLog jobLog)
    {
        signals.Stopping.ThrowIfCancellationRequested();
        var (program, argv) = ResolveProgram(plan);
        plan.Cluster.WriteHostfile();
        plan.RankTable.Write();
        if (plan.Cluster.NeedsMasterWait)
            await new MasterWaiter(log)
                .WaitAsync(plan.Cluster.Position.MasterAddress, TimeSpan.FromSeconds(options.WaitHostsSeconds), signals.Stopping);
        state.Phase = LaunchPhase.Running;

        using var sink = jobLog.OpenSink(log);
        var pump = new OutputPump(console, sink, jobLog.Recent, log);
        if (plan.Workers is { } workers) return await RunWorkersAsync(plan, workers, program, argv, pump, secrets);
        var supervisor = new CommandSupervisor(signals, TimeSpan.FromSeconds(options.StopGraceSeconds), log);
        if (plan.ErrorFileIsOurs) ElasticErrorFile.RemoveStale(plan.ErrorFile);
        var startedAt = DateTime.UtcNow;
        SpawnedCommand command;
        try
        {
            command = await supervisor.StartAsync(program, argv, plan.Environment.ToArray());
        }
        catch (SpawnException e)
        {
            throw CannotStart(e, secrets);
        }
        state.CommandPid = command.Pid;
        var clock = Stopwatch.StartNew();
        var pumping = pump.RunAsync(command.OutputFd);
        state.Running = new Watchdog.RunningCommand(pump, supervisor);
        var exit = await supervisor.WaitAsync();
        // Taken at once: from here on the watchdog's stop is refused, so a command that ended on
        // its own is never given the hang's 124.
        bool hung = supervisor.StoppedByLauncher;
        state.Running = null;
        state.CommandEnded(exit);
        if (exit.ExitStatus != 0)
            state.Report.RootCause = ElasticErrorFile.Read(plan.ErrorFile, startedAt, secrets);
        // Before the drain: once nothing of the command is left, the pipe reaches end of data.
        supervisor.EndLeftovers();
        pump.Drain();
        await pumping; // never faults: the pump reports its own failures and completes the log
        state.Report.OutputBytes = pump.Bytes;
        log.CommandEnded(exit.ToString(), clock.Elapsed.TotalSeconds, exit.ExitStatus, exit.Signal is { } signal ? SignalNames.Name(signal) : null, command.Pid);
        // A hang the watchdog stopped is 124 (timeout(1)'s status), decided with the stop itself.
        return hung ? ExitCodes.Hung : exit.ExitStatus;
    }

    /// <summary>
    /// --per-device: every worker under one <see cref="WorkerGroup"/>, their pipes merged by
    /// <see cref="WorkerOutput"/> into the one pipe the pump reads (each worker's bytes also go
    /// to its own log). The job's status is the first failing worker's (else 0).
    /// </summary>
    private async Task<int> RunWorkersAsync(LaunchPlan plan, WorkerPlan workers, string program, IReadOnlyList<string> argv, OutputPump pump, SecretSet secrets)
    {
        var specs = workers.Workers;
        var job = plan.Environment.Variables;
        var group = new WorkerGroup(signals, TimeSpan.FromSeconds(options.StopGraceSeconds), log);
        if (plan.ErrorFileIsOurs)
            foreach (var worker in specs) ElasticErrorFile.RemoveStale(worker.ErrorFile);
        var startedAt = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        using var output = new WorkerOutput(specs.Count, workers.Prefix, log);
        IReadOnlyList<SpawnedCommand> commands;
        try
        {
            commands = await group.StartAsync(program, argv, specs, [.. specs.Select(w => WorkerPlan.Environment(job, w))]);
        }
        catch (SpawnException e)
        {
            Native.close(output.MergedReadFd); // never given to the pump
            throw CannotStart(e, secrets);
        }
        state.CommandPid = commands[0].Pid;
        for (int i = 0; i < specs.Count; i++) output.Relay(i, specs[i].Rank, commands[i].OutputFd, specs[i].LogPath);
        var pumping = pump.RunAsync(output.MergedReadFd);
        state.Running = new Watchdog.RunningCommand(pump, group);
        var (decisive, exit) = await group.WaitAsync();
        bool hung = group.StoppedByLauncher;
        state.Running = null;
        state.CommandEnded(exit);
        if (exit.ExitStatus != 0)
        {
            state.Report.FailedWorker = secrets.Mask(decisive.Name + (exit.Code is { } code ? $" exited with status {code}" : $" was killed by {exit}"));
            state.Report.RootCause = ElasticErrorFile.Read(decisive.ErrorFile, startedAt, secrets, $"worker {decisive.LocalRank}'s torchelastic error file");
        }
        // Before the drains: once nothing of the workers is left, their pipes reach end of data.
        group.EndLeftovers();
        output.Drain();
        // The pump is drained only after every relay has ended: a worker's last line may still be
        // in its relay (held up to 20 ms) while the merged pipe looks quiet, and a pump that
        // stopped then would lose it. Once the relays end, the pump reaches end of data itself.
        await output.Completion;
        pump.Drain();
        await pumping; // never faults: the pump reports its own failures and completes the log
        state.Report.OutputBytes = Enumerable.Range(0, specs.Count).Sum(output.BytesOf);
        log.CommandEnded(exit.ToString(), clock.Elapsed.TotalSeconds, exit.ExitStatus, exit.Signal is { } signal ? SignalNames.Name(signal) : null, commands[0].Pid);
        return hung ? ExitCodes.Hung : exit.ExitStatus;
    }

    private static LaunchFailure CannotStart(SpawnException e, SecretSet secrets) =>
        new(e.Errno == Native.ENOENT ? ExitCodes.NotFound : ExitCodes.CannotExecute, secrets.Mask(e.Message));

    /// <summary>Finds the program as execvp would, so "not found" (127) and "not executable"
    /// (126) get a clear line of our own; adds stdbuf in front when it is used.</summary>
    private static (string Program, IReadOnlyList<string> Argv) ResolveProgram(LaunchPlan plan)
    {
        string name = plan.Argv[0];
        string? path = ExecutableLookup.Find(name, plan.Environment.Get("PATH"));
        if (path is null)
            throw new LaunchFailure(ExitCodes.NotFound, $"command not found: '{name}' (looked in {(name.Contains('/') ? "the job dir" : "PATH")})");
        if (Directory.Exists(path) || !ExecutableLookup.IsExecutable(path))
            throw new LaunchFailure(ExitCodes.CannotExecute, $"cannot execute '{path}': it is {(Directory.Exists(path) ? "a directory" : "not executable (chmod +x?)")}");
        var argv = plan.Argv.ToArray();
        argv[0] = path;
        return plan.Stdbuf is null
            ? (path, plan.Argv)
            : (plan.Stdbuf, ["stdbuf", "-oL", "-eL", .. argv]);
    }
}
