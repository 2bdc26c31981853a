using System.Security.Cryptography;

namespace TrainLauncher.Tests.Storage.Support;

/// <summary>Writes test trees and reads a tree back as path → (size, sha256) for comparison.</summary>
internal static class TestTree
{
    public static void Write(string root, IReadOnlyDictionary<string, int> files, params string[] emptyDirectories)
    {
        var random = new Random(42);
        foreach (var (relative, size) in files)
        {
            var path = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var output = File.Create(path);
            var block = new byte[Math.Min(size, 1 << 20)];
            for (var left = size; left > 0; left -= block.Length)
            {
                random.NextBytes(block);
                output.Write(block, 0, Math.Min(left, block.Length));
            }
        }
        foreach (var directory in emptyDirectories)
            Directory.CreateDirectory(Path.Combine(root, directory));
    }

    /// <summary>Every file and directory under <paramref name="root"/>: "dir/" entries and "file size sha256".</summary>
    public static SortedSet<string> Snapshot(string root)
    {
        var entries = new SortedSet<string>(StringComparer.Ordinal);
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 };
        foreach (var directory in Directory.EnumerateDirectories(root, "*", options))
            entries.Add(Path.GetRelativePath(root, directory) + "/");
        foreach (var file in Directory.EnumerateFiles(root, "*", options))
        {
            using var input = File.OpenRead(file);
            entries.Add($"{Path.GetRelativePath(root, file)} {input.Length} {Convert.ToHexStringLower(SHA256.HashData(input))}");
        }
        return entries;
    }

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));
}
