using System.Text.Json;
using TrainLauncher.Images;
using static TrainLauncher.Tests.Images.ImageCheck;

namespace TrainLauncher.Tests.Images;

/// <summary>
/// The Dockerfiles' structure, parsed: stages, what the final stage adds, user and entrypoint,
/// and the files the final stage would add run through check-image as a layer on top of a base
/// layer. The images are also built and run for real (Images/Containers, with buildah/podman).
/// </summary>
public sealed class DockerfileSpecs
{
    private const string Launcher = "/home/work/trainlauncher/trainlauncher";
    private const string Shim = "/home/work/trainlauncher/run_train.sh";

    private sealed record Instruction(string Keyword, string Arguments)
    {
        private string[] Words => Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        public string[] Flags => Words.TakeWhile(w => w.StartsWith("--", StringComparison.Ordinal)).ToArray();
        public string[] Paths => Words.SkipWhile(w => w.StartsWith("--", StringComparison.Ordinal)).ToArray();
        public string Destination => Paths[^1];
        public string[] ExecForm => JsonSerializer.Deserialize<string[]>(Arguments) ?? [];
    }

    /// <summary>Stage 0 holds the instructions before the first FROM (the global ARGs).</summary>
    private static List<List<Instruction>> Stages(string relativePath)
    {
        var stages = new List<List<Instruction>> { new() };
        string pending = "";
        foreach (string raw in File.ReadAllLines(RepoFile(relativePath)))
        {
            string line = raw.Trim();
            if (pending.Length == 0 && (line.Length == 0 || line.StartsWith('#')))
                continue;
            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }
            string text = pending + line;
            pending = "";
            int space = text.IndexOf(' ');
            var instruction = new Instruction(text[..space].ToUpperInvariant(), text[(space + 1)..].Trim());
            if (instruction.Keyword == "FROM")
                stages.Add([]);
            stages[^1].Add(instruction);
        }
        return stages;
    }

    private static string ArgDefault(List<List<Instruction>> stages, string name) =>
        stages[0].Single(i => i.Keyword == "ARG" && i.Arguments.StartsWith(name + "=", StringComparison.Ordinal)).Arguments[(name.Length + 1)..];

    private static bool SetsSetuidOrSetgid(Instruction instruction) => SetsSetuidOrSetgid(instruction.Arguments);

    private static bool SetsSetuidOrSetgid(string arguments) =>
        System.Text.RegularExpressions.Regex.IsMatch(arguments, @"(chmod\s+(-\w+\s+)*([ugoa]*\+\w*s|[2467][0-7]{3}\b))|--chmod=[2467][0-7]{3}|--chmod=\S*s");

    [Theory]
    [InlineData("chmod u+s /opt/x", true)]
    [InlineData("chmod -R g+rws /opt", true)]
    [InlineData("chmod 4755 /opt/x", true)]
    [InlineData("--chmod=2755 a /opt/a", true)]
    [InlineData("chmod 755 /opt/x && chmod +x /opt/y", false)]
    [InlineData("--chmod=0755 a /opt/a", false)]
    public void The_setuid_scan_recognises_chmod_forms(string arguments, bool setuid) =>
        Assert.Equal(setuid, SetsSetuidOrSetgid(arguments));

    /// <summary>What a COPY destination may be: outside the protected places and not a platform tool name.</summary>
    private static void AssertAllowedDestination(string path)
    {
        Assert.Null(ImageRules.SystemDirectoryOf(path));
        Assert.False(path == "/etc" || ImageRules.IsUnder(path, "/etc"), $"{path} is under /etc");
        Assert.False(LayerReader.ParentOf(path) == "/home/work", $"{path} is directly in the home dir, beside the platform's tools");
    }

    private static List<Instruction> Stage(List<List<Instruction>> stages, string name) =>
        stages.Single(s => s.Count > 0 && s[0].Keyword == "FROM" && s[0].Arguments.EndsWith(" AS " + name, StringComparison.Ordinal));

    [Theory]
    [InlineData("docker/Dockerfile.cpu", "swr.cn-north-1.myhuaweicloud.com/eiwizard/custom-cpu-base:1.2")]
    [InlineData("docker/Dockerfile.gpu", "swr.cn-north-1.myhuaweicloud.com/eiwizard/custom-gpu-cuda9-base:1.2")]
    public void The_launcher_images_take_the_launcher_from_the_sdk_or_prebuilt_and_add_only_the_launcher_and_shim(string dockerfile, string baseImage)
    {
        var stages = Stages(dockerfile);
        Assert.Equal(baseImage, ArgDefault(stages, "BASE_IMAGE"));
        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0", ArgDefault(stages, "SDK_IMAGE"));
        // Without --build-arg LAUNCHER=prebuilt the launcher is compiled in the SDK image, as before.
        Assert.Equal("sdk", ArgDefault(stages, "LAUNCHER"));
        Assert.Contains(stages[0], i => i.Keyword == "ARG" && i.Arguments == "TARGETARCH");

        var sdk = Stage(stages, "launcher-sdk");
        Assert.Equal("--platform=$BUILDPLATFORM ${SDK_IMAGE} AS launcher-sdk", sdk[0].Arguments);
        Assert.Contains(sdk, i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish src/TrainLauncher -c Release -r \"$rid\" -o /out"));
        Assert.Contains(sdk, i => i.Keyword == "RUN" && i.Arguments.Contains("arm64) rid=linux-arm64") && i.Arguments.Contains("*) rid=linux-x64"));
        // Prebuilt: the binary `dotnet publish` left in the context, by target architecture.
        foreach (var (arch, path) in new[] { ("amd64", "artifacts/bin/trainlauncher"), ("arm64", "artifacts/bin-arm64/trainlauncher") })
        {
            var prebuilt = Stage(stages, "prebuilt-" + arch);
            Assert.Equal("scratch AS prebuilt-" + arch, prebuilt[0].Arguments);
            Assert.Equal(path + " /out/trainlauncher", prebuilt.Single(i => i.Keyword == "COPY").Arguments);
        }
        Assert.Equal("prebuilt-${TARGETARCH} AS launcher-prebuilt", Stage(stages, "launcher-prebuilt")[0].Arguments);
        Assert.Equal("launcher-${LAUNCHER} AS launcher", Stage(stages, "launcher")[0].Arguments);

        var final = stages[^1];
        Assert.Equal("${BASE_IMAGE}", final[0].Arguments);
        // Nothing runs in the final stage: it cannot touch /usr, /etc or set modes.
        Assert.DoesNotContain(final, i => i.Keyword is "RUN" or "ADD");
        var copies = final.Where(i => i.Keyword == "COPY").ToList();
        Assert.Equal([Launcher, Shim], copies.Select(c => c.Destination));
        Assert.Equal(["--from=launcher", "/out/trainlauncher"], copies[0].Paths[..^1].Prepend(copies[0].Flags.Single()));
        Assert.Equal("docker/run_train.sh", copies[1].Paths[0]);
        copies.ForEach(c => AssertAllowedDestination(c.Destination));
        Assert.DoesNotContain(stages.SelectMany(s => s), SetsSetuidOrSetgid);

        Assert.Equal("work", final.Last(i => i.Keyword == "USER").Arguments);
        Assert.Equal([Launcher], final.Single(i => i.Keyword == "ENTRYPOINT").ExecForm);
    }

    [Fact]
    public void The_gpu_image_differs_from_the_cpu_image_only_in_its_base()
    {
        var cpu = Stages("docker/Dockerfile.cpu").SelectMany(s => s).Where(i => !i.Arguments.StartsWith("BASE_IMAGE=", StringComparison.Ordinal));
        var gpu = Stages("docker/Dockerfile.gpu").SelectMany(s => s).Where(i => !i.Arguments.StartsWith("BASE_IMAGE=", StringComparison.Ordinal));

        Assert.Equal(cpu, gpu);
    }

    [Theory]
    [InlineData("docker/Dockerfile.cpu")]
    [InlineData("docker/Dockerfile.gpu")]
    public void The_final_stage_as_a_layer_passes_check_image(string dockerfile)
    {
        // The files the final stage adds, with the owner and mode COPY gives them (root, 0755).
        var layer = new TestLayer { Gzip = true }.Dir("home").Dir("home/work").Dir("home/work/trainlauncher");
        foreach (var copy in Stages(dockerfile)[^1].Where(i => i.Keyword == "COPY"))
            layer.File(copy.Destination, mode: (UnixFileMode)0b111_101_101);
        using var dir = new TempDir();

        var (exit, lines) = ImageCheck.Run(Write(new TestImage(BaseLayer(), layer), dir, Form.DockerSave), "--base-layers", "1");

        Assert.True(exit == CheckImageCommand.Clean, string.Join('\n', lines));
        // The stand-in can fail: the same files installed the usual way would be refused.
        var usrLayer = new TestLayer().File("usr/local/bin/trainlauncher", mode: (UnixFileMode)0b111_101_101).File("home/work/run_train.sh", "exec trainlauncher \"$@\"");
        var broken = ImageCheck.Run(Write(new TestImage(BaseLayer(), usrLayer), dir, Form.DockerSave, "usr"), "--base-layers", "1");
        Assert.Equal(2, Findings(broken.Lines).Length);
    }

    [Fact]
    public void The_shim_is_two_lines_and_execs_the_launcher_beside_it_with_the_arguments_unchanged()
    {
        string shim = RepoFile("docker/run_train.sh");
        Assert.Equal(["#!/bin/sh", "exec \"$(dirname \"$0\")/trainlauncher\" \"$@\""], File.ReadAllLines(shim));
        Assert.Contains("x", Exec("stat", "-c", "%A", shim).Output[1..4]); // executable for its owner

        using var dir = new TempDir();
        File.Copy(shim, dir.File("run_train.sh"));
        // A stand-in launcher that prints each argument on its own line and exits 7.
        File.WriteAllText(dir.File("trainlauncher"), "#!/bin/sh\nfor a in \"$@\"; do echo \"[$a]\"; done\nexit 7\n");
        Exec("chmod", "+x", dir.File("trainlauncher"));

        var (code, output) = Exec("bash", dir.File("run_train.sh"), "python", "train.py", "--name", "a b", "*");

        Assert.Equal(7, code);
        Assert.Equal("[python]\n[train.py]\n[--name]\n[a b]\n[*]\n", output);
    }

    [Fact]
    public void The_batch_image_starts_run_sh_which_starts_the_launcher_and_brings_python_java_and_zip()
    {
        var stages = Stages("docker/batch/Dockerfile");
        Assert.Equal("conda", ArgDefault(stages, "TOOLS"));
        var conda = Stage(stages, "tools-conda");
        Assert.Contains(conda, i => i.Keyword == "RUN" && i.Arguments.Contains("-p /opt/batch") && i.Arguments.Contains("python=3") && i.Arguments.Contains("openjdk") && i.Arguments.Contains(" zip"));
        var debian = Stage(stages, "tools-debian");
        Assert.Contains(debian, i => i.Keyword == "RUN" && i.Arguments == "sh /tmp/debian-tools.sh /opt/batch");
        Assert.Contains("openjdk-17-jre-headless zip", File.ReadAllText(RepoFile("docker/batch/debian-tools.sh")));
        Assert.Equal("tools-${TOOLS} AS tools", Stage(stages, "tools")[0].Arguments);

        var final = stages[^1];
        Assert.DoesNotContain(final, i => i.Keyword is "RUN" or "ADD");
        var copies = final.Where(i => i.Keyword == "COPY").ToList();
        Assert.Equal(["/opt/batch", ImageRules.BatchScript], copies.Select(c => c.Destination));
        Assert.Equal("--from=tools", copies[0].Flags.Single());
        copies.ForEach(c => AssertAllowedDestination(c.Destination));
        Assert.Contains("/opt/batch/bin", final.Single(i => i.Keyword == "ENV").Arguments);
        Assert.Equal(["/bin/sh", ImageRules.BatchScript], final.Single(i => i.Keyword == "CMD").ExecForm);
        Assert.Empty(final.Single(i => i.Keyword == "ENTRYPOINT").ExecForm);
        Assert.Equal("work", final.Last(i => i.Keyword == "USER").Arguments);
        Assert.DoesNotContain(stages.SelectMany(s => s), SetsSetuidOrSetgid);

        Assert.Contains($"exec {Launcher} \"$@\"", File.ReadAllLines(RepoFile("docker/batch/run.sh")));
    }

    [Fact]
    public void The_build_context_leaves_out_build_output_and_git()
    {
        var lines = File.ReadAllLines(RepoFile(".dockerignore")).Where(l => !l.StartsWith('#')).ToList();

        Assert.Superset(new HashSet<string> { "**/bin", "**/obj", "artifacts", "**/node_modules", ".git" }, lines.ToHashSet());
        // ...except the published launchers LAUNCHER=prebuilt copies: a later "!" line wins.
        foreach (var launcher in new[] { "!artifacts/bin/trainlauncher", "!artifacts/bin-arm64/trainlauncher" })
            Assert.True(lines.IndexOf(launcher) > Math.Max(lines.IndexOf("artifacts"), lines.IndexOf("**/bin")), launcher);
    }

    [Fact]
    public void The_example_image_keeps_the_rules_and_its_job_runs_the_shim()
    {
        var stages = Stages("examples/custom-image/Dockerfile");
        var final = stages[^1];
        Assert.Equal("${LAUNCHER_IMAGE}", final[0].Arguments);
        Assert.Contains("trainlauncher-cpu", ArgDefault(stages, "LAUNCHER_IMAGE"));
        var copies = final.Where(i => i.Keyword == "COPY").ToList();
        Assert.All(copies, c => Assert.StartsWith("/home/work/app/", c.Destination));
        copies.ForEach(c => AssertAllowedDestination(c.Destination));
        Assert.All(final.Where(i => i.Keyword == "RUN"), run => Assert.Contains("pip install --user", run.Arguments));
        Assert.DoesNotContain(final, i => i.Keyword is "USER" or "ENTRYPOINT");
        foreach (var copy in copies)
            Assert.True(File.Exists(RepoFile("examples/custom-image/" + copy.Paths[0])), copy.Paths[0]);

        using var job = JsonDocument.Parse(File.ReadAllText(RepoFile("examples/custom-image/job.json")));
        string command = job.RootElement.GetProperty("algorithm").GetProperty("command").GetString()!;
        Assert.StartsWith($"bash {Shim} python /home/work/app/train.py", command);
        Assert.Contains(copies, c => command.Contains(c.Destination));
        Assert.Contains("args: [\"python\", \"/home/work/app/train.py\"", File.ReadAllText(RepoFile("examples/custom-image/job.k8s.yaml")));
    }
}
