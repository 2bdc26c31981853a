using Serilog;
using TrainLauncher.Launch;
using TrainLauncher.Plan;
using TrainLauncher.Secrets;

namespace TrainLauncher.Reporting;

/// <summary>SPEC 3.1's header, printed once the secrets are known so the command can be masked:
/// who runs, where, what is fetched, where the log goes, the command, accelerators, cluster.</summary>
internal static class RunHeader
{
    public static void Print(ILogger log, LaunchPlan plan, SecretSet secrets)
    {
        var s = plan.Settings;
        log.Information("user: {User}", UserIdentity.Describe());
        log.Information("pwd: {JobDir}", s.JobDir);
        log.Information("app_url: {AppUrl}", s.AppUrl ?? "(none)");
        log.Information("log_url: {LogFile}", s.LogFile.Length > 0 ? s.LogFile : "(none)");
        log.Information("command: {Command}", secrets.Mask(PlanPrinter.Quote(plan.Argv)));
        foreach (var line in plan.Accelerators.Describe().Concat(plan.Cluster.Describe())) log.Information("{Line}", line);
        if (plan.Gpus is { } gpus) log.Information("--gpus sets {Variable}={Value}", gpus.Variable, gpus.Value);
    }
}
