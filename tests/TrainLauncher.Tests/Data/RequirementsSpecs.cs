using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Data;

/// <summary>`--requirements` (issue 15): real pip installs of a wheel made in the test, from a local
/// --find-links directory with no index (PIP_NO_INDEX), into the test's own HOME (--user).</summary>
public class RequirementsSpecs
{
    private static LauncherRun Job(TempDir dir)
    {
        TestWheel.Build(dir["wheels"], "tlprobe", "1.0", "probe-ok-1");
        dir.Write("code/app/train.py", "import tlprobe\nprint('value', tlprobe.VALUE)\n");
        return new LauncherRun(dir)
            .Set("DLS_APP_URL", dir["code/app"])
            .Set("PIP_NO_INDEX", "1")
            .Set("PIP_FIND_LINKS", dir["wheels"])
            .Set("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            // The log written directly: `dls-pipe LOG` (write mode, as run_train.sh) would truncate
            // what came before the command, pip's output included (see the README).
            .Set("TRAINLAUNCHER_DLS_PIPE", "/nonexistent/dls-pipe");
    }

    [Fact]
    public async Task The_code_dirs_pip_requirements_txt_is_installed_before_the_command_and_wins_over_requirements_txt()
    {
        using var dir = new TempDir();
        var run = Job(dir).Args(Repo.Python, "app/train.py");
        dir.Write("code/app/pip-requirements.txt", "tlprobe==1.0\n");
        dir.Write("code/app/requirements.txt", "no-such-package-anywhere==1\n");
        var result = await run.RunAsync();

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("value probe-ok-1\n", result.Log);
        Assert.Contains("Successfully installed tlprobe-1.0", result.Log);
        Assert.Contains("Successfully installed tlprobe-1.0", result.Stdout);
        Assert.Contains($"[trainlauncher] installing {run.JobDir}/app/pip-requirements.txt with pip (--requirements)", result.Stdout);
        Assert.True(File.Exists(dir["home/.local/lib/python3.11/site-packages/tlprobe/__init__.py"]), "not installed with --user into HOME");
        Assert.Contains(result.Messages, l => l.StartsWith("[trainlauncher]   installing ", StringComparison.Ordinal));
        // Debian 12's python is externally managed: the launcher says how it installs anyway.
        Assert.Single(result.Messages, l => l.Contains("externally managed (PEP 668): pip runs with PIP_BREAK_SYSTEM_PACKAGES=1"));
    }

    [Fact]
    public async Task A_failed_install_is_125_with_one_line_naming_the_file_and_pips_error_and_the_command_does_not_run()
    {
        using var dir = new TempDir();
        var run = Job(dir).Args("--termination-log", dir["termination"], "--shell", "--", $"touch {dir["ran"]}");
        dir.Write("code/app/requirements.txt", "tlprobe==9.9\n");
        var result = await run.RunAsync();

        Assert.Equal(125, result.ExitCode);
        Assert.False(File.Exists(dir["ran"]));
        string line = Assert.Single(result.Messages, l => l.Contains("error:"));
        Assert.Equal($"[trainlauncher] error: cannot install {run.JobDir}/app/requirements.txt: pip exited with status 1: ERROR: No matching distribution found for tlprobe==9.9", line);
        Assert.Contains("No matching distribution found for tlprobe==9.9", result.Log);
        Assert.StartsWith("exit status 125 (phase installing): cannot install", File.ReadAllText(dir["termination"]));
    }

    [Fact]
    public async Task The_jobs_own_PIP_BREAK_SYSTEM_PACKAGES_0_is_honoured_and_pips_refusal_is_the_line()
    {
        using var dir = new TempDir();
        var run = Job(dir).Set("PIP_BREAK_SYSTEM_PACKAGES", "0").Args("true");
        dir.Write("code/app/requirements.txt", "tlprobe==1.0\n");
        var result = await run.RunAsync();

        Assert.Equal(125, result.ExitCode);
        Assert.Contains(result.Messages, l => l.EndsWith("pip exited with status 1: error: externally-managed-environment", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Messages, l => l.Contains("PEP 668"));
    }

    [Fact]
    public async Task Requirements_off_installs_nothing_and_a_named_file_that_is_missing_is_125()
    {
        using var dir = new TempDir();
        dir.Write("code/app/requirements.txt", "tlprobe==9.9\n");
        var off = await Job(dir).Args("--requirements", "off", "true").RunAsync();
        Assert.Equal(0, off.ExitCode);
        Assert.DoesNotContain(off.Messages, l => l.Contains("pip"));

        var missing = await Job(dir).Args("--requirements", "app/other.txt", "true").RunAsync();
        Assert.Equal(125, missing.ExitCode);
        Assert.Contains(missing.Messages, l => l.EndsWith($"error: --requirements {missing.JobDir}/app/other.txt: no such file", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_named_file_is_installed_and_the_plan_shows_what_would_be()
    {
        using var dir = new TempDir();
        var plan = await Job(dir).Args("plan", "true").RunAsync();
        Assert.Contains("requirements: python3 -m pip install --user -r pip-requirements.txt or requirements.txt in ", plan.Stdout);

        dir.Write("extra.txt", "tlprobe==1.0\n");
        var named = await Job(dir).Args("plan", "--requirements", dir["extra.txt"], "true").RunAsync();
        Assert.Contains($"requirements: python3 -m pip install --user -r {dir["extra.txt"]}", named.Stdout);

        var result = await Job(dir).Args("--requirements", dir["extra.txt"], Repo.Python, "app/train.py").RunAsync();
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("value probe-ok-1\n", result.Log);
    }
}
