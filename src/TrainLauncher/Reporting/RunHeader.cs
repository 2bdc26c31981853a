using Microsoft.Extensions.Logging;
using TrainLauncher.Cluster;
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
        log.HeaderUser(UserIdentity.Describe());
        log.HeaderJobDir(s.JobDir);
        log.HeaderAppUrl(s.AppUrl ?? "(none)");
        log.HeaderLogFile(s.LogFile.Length > 0 ? s.LogFile : "(none)");
        log.HeaderCommand(secrets.Mask(PlanPrinter.Quote(plan.Argv)));
        var devices = plan.Accelerators;
        log.HeaderAccelerators(devices.Nvidia.Describe(), devices.Ascend.Describe(), devices.Nvidia.Count, devices.Ascend.Count);
        plan.Cluster.Report(log);
        plan.RankTable.Report(log);
        plan.Workers?.Report(log);
        if (plan.Gpus is { } gpus) log.HeaderGpus(gpus.Variable, gpus.Value);
    }
}
