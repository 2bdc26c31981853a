using System.Diagnostics;
using TrainLauncher.Images;

namespace TrainLauncher.Tests.Images;

/// <summary>The three ways an image reaches check-image.</summary>
public enum Form { DockerSave, OciArchive, OciDirectory }

/// <summary>Runs `check-image` the way the CLI does and splits its output into lines.</summary>
internal static class ImageCheck
{
    public static (int Exit, string[] Lines) Run(params string[] args)
    {
        var output = new StringWriter();
        int exit = CheckImageCommand.Run(args, output);
        return (exit, output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    public static string Write(TestImage image, TempDir dir, Form form, string name = "image")
    {
        switch (form)
        {
            case Form.DockerSave:
                image.WriteDockerSave(dir.File(name + ".tar"));
                return dir.File(name + ".tar");
            case Form.OciArchive:
                image.WriteOciArchive(dir.File(name + ".oci.tar"));
                return dir.File(name + ".oci.tar");
            default:
                image.WriteOciDirectory(dir.File(name + "-oci"));
                return dir.File(name + "-oci");
        }
    }

    /// <summary>Runs a real process; stdout then stderr.</summary>
    public static (int Code, string Output) Exec(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    /// <summary>A file of the repository, found from the test binary's folder upwards.</summary>
    public static string RepoFile(string relative)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "TrainLauncher.sln")))
            dir = dir.Parent;
        return dir is null
            ? throw new InvalidOperationException("TrainLauncher.sln not found above " + AppContext.BaseDirectory)
            : Path.Combine(dir.FullName, relative);
    }

    /// <summary>Rule lines only: the last line is the summary.</summary>
    public static string[] Findings(string[] lines) => lines[..^1];

    /// <summary>A base layer shaped like a ModelArts base: system files, /etc, the platform tools, a setuid sudo.</summary>
    public static TestLayer BaseLayer(bool gzip = false) => new TestLayer { Gzip = gzip }
        .Dir("usr").Dir("usr/bin").File("usr/bin/python3").File("usr/bin/sudo", mode: (UnixFileMode)0b100_111_101_101)
        .Dir("bin").File("bin/sh").Dir("lib").File("lib/libc.so.6")
        .Dir("etc").File("etc/passwd", "root:x:0:0::/root:/bin/sh").File("etc/shadow").File("etc/hosts")
        .Dir("etc/pam.d").File("etc/pam.d/sudo").File("etc/motd")
        .Dir("home").Dir("home/work").File("home/work/run_train.sh", uid: 1000).File("home/work/dls-decryptor", uid: 1000)
        .File("home/work/platform-helper", uid: 1000);

    /// <summary>What our Dockerfile adds: the launcher beside the shim, outside every protected place.</summary>
    public static TestLayer LauncherLayer(bool gzip = false) => new TestLayer { Gzip = gzip }
        .Dir("home").Dir("home/work").Dir("home/work/trainlauncher")
        .File("home/work/trainlauncher/trainlauncher", mode: (UnixFileMode)0b111_101_101, uid: 1000)
        .File("home/work/trainlauncher/run_train.sh", mode: (UnixFileMode)0b111_101_101, uid: 1000)
        .Dir("opt").File("opt/app/train.py", uid: 1000).Dir("etc/profile.d").File("etc/profile.d/conda.sh")
        .Dir("home/work/user-job-dir");
}
