using TrainLauncher.Tests.Support;
using static TrainLauncher.Tests.Images.Containers.BuiltImages;

namespace TrainLauncher.Tests.Images.Containers;

/// <summary>
/// Issue 11: the images built from docker/ (tests/images/build.sh) run as podman containers:
/// the launcher is PID 1, /health answers on the host network, `podman stop` reaches the
/// command's SIGTERM handler and the container ends with the command's status, the batch and
/// the example image run their commands. A volume (a host dir owned by uid 1000, the image's
/// `work` user) carries files between the command and the test.
/// </summary>
[Collection("images")]
public sealed class ContainerSpecs(BuiltImages images) : IDisposable
{
    /// <summary>argv[0] of PID 1, from the command. Not `readlink /proc/1/exe`: the launcher is not
    /// dumpable (it holds secrets), so its exe link, environ and memory are closed to other processes.</summary>
    private const string Pid1Program = "tr '\\0' '\\n' < /proc/1/cmdline | head -1";

    private const string Launcher = "/home/work/trainlauncher/trainlauncher";
    private readonly Support.TempDir volume = OwnedByWork();
    private readonly List<string> containers = [];

    public void Dispose()
    {
        foreach (var name in containers) images.PodmanAsync("rm", "-f", name).GetAwaiter().GetResult();
        volume.Dispose();
    }

    private static Support.TempDir OwnedByWork()
    {
        var dir = new Support.TempDir();
        Assert.Equal(0, ImageCheck.Exec("chown", "1000:1000", dir.Path).Code);
        return dir;
    }

    /// <summary>`podman run` with the sandbox's limits and the volume at /ckpt; returns the arguments.</summary>
    private string[] Run(string image, string[] options, params string[] command)
    {
        string name = "tl-" + Guid.NewGuid().ToString("N")[..10];
        containers.Add(name);
        return ["run", "--name", name, "--pull", "never", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=1000:1000",
            "-v", volume.Path + ":/ckpt", .. options, image, .. command];
    }

    private string Name => containers[^1];

    /// <summary>Waits until the command wrote <paramref name="file"/> into the volume (or the container ended).</summary>
    private async Task WaitForFileAsync(string file)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (!File.Exists(volume[file]))
        {
            var (_, state) = await images.PodmanAsync("inspect", "--format", "{{.State.Status}}", Name);
            Assert.True(state.Trim() is "created" or "running", $"the container is {state.Trim()} before writing {file}: {(await images.PodmanAsync("logs", Name)).Output}");
            await Task.Delay(100, deadline.Token);
        }
    }

    private async Task<int> ExitCodeAsync()
    {
        var (code, output) = await images.PodmanAsync("wait", Name);
        Assert.True(code == 0, output);
        return int.Parse(output.Trim().Split('\n')[^1]);
    }

    [Fact]
    public async Task The_launcher_is_pid_1_and_health_answers_on_the_host_network()
    {
        int port = Http.FreePort();
        var (started, output) = await images.PodmanAsync(Run(LauncherCpu, ["-d", "--network", "host", "-e", $"TRAINLAUNCHER_HEALTH_PORT={port}"],
            "sh", "-c", $"{Pid1Program} > /ckpt/pid1; while [ ! -e /ckpt/go ]; do sleep 0.1; done; echo finishing"));
        Assert.True(started == 0, output);
        await WaitForFileAsync("pid1");

        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        (int Status, string Body) health = (0, "");
        while (health.Status == 0)
        {
            try { health = await Http.GetAsync(port, "/health"); }
            catch (HttpRequestException) { await Task.Delay(100, deadline.Token); }
        }
        var status = await Http.StatusAsync(port);
        File.WriteAllText(volume["go"], "");

        Assert.Equal(Launcher + "\n", File.ReadAllText(volume["pid1"]));
        Assert.Equal((200, "{\"health\": \"true\"}"), health);
        Assert.Equal("running", status.GetProperty("phase").GetString());
        Assert.Equal(0, await ExitCodeAsync());
        Assert.Contains("finishing", (await images.PodmanAsync("logs", Name)).Output);
    }

    [Fact]
    public async Task Podman_stop_runs_the_commands_sigterm_handler_to_its_end_and_the_container_exits_with_its_status()
    {
        const string script = """
            import os, signal, sys, time
            def stop(signum, frame):
                time.sleep(2)  # a checkpoint that takes a while
                with open("/ckpt/checkpoint.tmp", "w") as f:
                    f.write("step 41\n")
                os.rename("/ckpt/checkpoint.tmp", "/ckpt/checkpoint.txt")
                print("checkpoint saved", flush=True)
                sys.exit(7)
            signal.signal(signal.SIGTERM, stop)
            open("/ckpt/ready", "w").close()
            while True:
                time.sleep(1)
            """;
        var (started, output) = await images.PodmanAsync(Run(LauncherCpu, ["-d", "--network", "none"], "python3", "-c", script));
        Assert.True(started == 0, output);
        await WaitForFileAsync("ready");

        var (stopped, stopOutput) = await images.PodmanAsync("stop", "-t", "30", Name);

        Assert.True(stopped == 0, stopOutput);
        Assert.Equal(7, await ExitCodeAsync());
        Assert.Equal("step 41\n", File.ReadAllText(volume["checkpoint.txt"]));
        string logs = (await images.PodmanAsync("logs", Name)).Output;
        Assert.Contains("checkpoint saved", logs);
        Assert.Contains("[trainlauncher] exit status 7", logs);
    }

    [Fact]
    public async Task A_failing_command_gives_the_container_its_status_and_the_termination_message()
    {
        var (code, output) = await images.PodmanAsync(Run(LauncherCpu, ["--network", "none", "-e", "TRAINLAUNCHER_TERMINATION_LOG=/ckpt/termination-log"],
            "sh", "-c", "echo 'step 1'; echo 'Traceback: CUDA out of memory'; exit 3"));

        Assert.True(code == 3, output);
        Assert.Equal(
            "exit status 3 (phase running): the command ended with exit status 3\nlast output:\nstep 1\nTraceback: CUDA out of memory\n",
            File.ReadAllText(volume["termination-log"]));
    }

    [Fact]
    public async Task The_batch_image_runs_home_run_sh_and_brings_python_java_and_zip()
    {
        var (code, output) = await images.PodmanAsync(Run(Batch, ["--network", "none"],
            "/bin/sh", "/home/run.sh", "sh", "-c",
            $"{Pid1Program}; python --version; java -version 2>&1 | head -1; echo data > f && zip -q f.zip f && ls f.zip"));

        Assert.True(code == 0, output);
        Assert.Contains(Launcher + "\n", output); // run.sh exec'd the launcher: it is PID 1
        Assert.Matches(@"Python 3\.\d+", output);
        Assert.Contains("openjdk version \"17", output);
        Assert.Contains("f.zip\n", output);
    }

    [Fact]
    public async Task The_example_image_runs_its_default_command_and_its_job_definitions_shim_command()
    {
        var (code, output) = await images.PodmanAsync(Run(Custom, ["--network", "none"]));
        var (shimCode, shimOutput) = await images.PodmanAsync(Run(Custom, ["--network", "none", "--entrypoint", "bash"],
            "/home/work/trainlauncher/run_train.sh", "python", "/home/work/app/train.py", "--epochs", "3"));

        Assert.True(code == 0, output);
        Assert.Contains("epoch 1/1 loss=1.0000", output);
        Assert.Contains("[trainlauncher] exit status 0", output);
        Assert.True(shimCode == 0, shimOutput);
        Assert.Contains("epoch 3/3", shimOutput);
    }

    [Fact]
    public async Task The_arm64_image_holds_the_arm64_launcher_which_runs_a_command_against_the_images_own_glibc()
    {
        // No arm64 machine or binfmt here: the image's files are mounted and its launcher runs
        // under qemu-aarch64-static with the image as the library root.
        var (_, arch) = await images.PodmanAsync("image", "inspect", "--format", "{{.Architecture}}", LauncherCpuArm64);
        var (mounted, root) = await images.PodmanAsync("image", "mount", LauncherCpuArm64);
        Assert.True(mounted == 0, root);
        try
        {
            string launcher = root.Trim() + Launcher;
            var (_, header) = ImageCheck.Exec("readelf", "-h", launcher);
            var run = new LauncherRun(volume) { Launcher = launcher }.Set("QEMU_LD_PREFIX", root.Trim()).Args("sh", "-c", "exit 5");
            using var process = run.Start("qemu-aarch64-static");
            var result = await run.CollectAsync(process);

            Assert.Equal("arm64", arch.Trim());
            Assert.Contains("AArch64", header);
            Assert.True(result.ExitCode == 5, result.Stdout + run.Stderr);
            Assert.Contains("[trainlauncher] exit status 5", result.Messages);
        }
        finally
        {
            await images.PodmanAsync("image", "unmount", LauncherCpuArm64);
        }
    }
}
