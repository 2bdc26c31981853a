using SharpFuzz;
using TrainLauncher.Fuzz;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// afl-fuzz runs `TrainLauncher.Fuzz TARGET` and feeds inputs on the fork server's loop;
// `TrainLauncher.Fuzz TARGET FILE...` runs files once each (triage, afl-tmin, the seeds).
if (args.Length == 0 || !FuzzTargets.All.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine($"usage: TrainLauncher.Fuzz {string.Join('|', FuzzTargets.All.Keys)} [FILE...]");
    return 2;
}
if (args.Length == 1)
{
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        target(memory.ToArray());
    });
    return 0;
}
int failures = 0;
foreach (var file in args[1..])
{
    try
    {
        target(File.ReadAllBytes(file));
    }
    catch (Exception e)
    {
        failures++;
        // One line per input: the file, the cause (a broken property, or the exception and where
        // our code threw it) and the message as an example.
        string cause = e is FuzzFinding finding
            ? finding.Cause
            : $"{e.GetType().Name} {e.StackTrace?.Split('\n').FirstOrDefault(l => l.Contains(" TrainLauncher.", StringComparison.Ordinal))?.Trim()}";
        Console.WriteLine($"{file}\t{cause}\t{TrainLauncher.Output.OneLine.Escape(e.Message)}");
    }
}
Console.WriteLine($"{args.Length - 1 - failures} passed, {failures} failed");
return failures == 0 ? 0 : 1;
