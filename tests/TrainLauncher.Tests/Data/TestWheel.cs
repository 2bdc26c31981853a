using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace TrainLauncher.Tests.Data;

/// <summary>A pure-Python wheel made by hand (no build backend, no index needed): one module whose VALUE says it was installed.</summary>
internal static class TestWheel
{
    /// <summary>Writes NAME-VERSION-py3-none-any.whl into <paramref name="directory"/>; returns its path.</summary>
    public static string Build(string directory, string name, string version, string value)
    {
        Directory.CreateDirectory(directory);
        string info = $"{name}-{version}.dist-info";
        var files = new List<(string Path, string Text)>
        {
            ($"{name}/__init__.py", $"VALUE = '{value}'\n"),
            ($"{info}/METADATA", $"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"),
            ($"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: trainlauncher-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
        };
        var record = new StringBuilder();
        foreach (var (path, text) in files)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            string hash = Convert.ToBase64String(SHA256.HashData(bytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            record.Append($"{path},sha256={hash},{bytes.Length}\n");
        }
        record.Append($"{info}/RECORD,,\n");
        files.Add(($"{info}/RECORD", record.ToString()));

        string wheel = Path.Combine(directory, $"{name}-{version}-py3-none-any.whl");
        if (File.Exists(wheel)) return wheel;
        using var zip = ZipFile.Open(wheel, ZipArchiveMode.Create);
        foreach (var (path, text) in files)
        {
            using var entry = new StreamWriter(zip.CreateEntry(path).Open(), new UTF8Encoding(false));
            entry.Write(text);
        }
        return wheel;
    }
}
