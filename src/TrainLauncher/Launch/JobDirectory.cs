namespace TrainLauncher.Launch;

/// <summary>Step 6: the job dir is created and becomes the working directory of the launcher and the command.</summary>
internal static class JobDirectory
{
    public static void Enter(string jobDir)
    {
        try
        {
            Directory.CreateDirectory(jobDir);
            Directory.SetCurrentDirectory(jobDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw LaunchFailure.Setup($"cannot use the job dir {jobDir} (DLS_USER_JOB_DIR): {e.Message}");
        }
    }
}
