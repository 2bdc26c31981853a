using System.Globalization;
using TrainLauncher.Output;

namespace TrainLauncher.Images;

/// <summary>
/// `trainlauncher check-image IMAGE.tar [--base BASE.tar | --base-layers N] [--home DIR] [--batch]`:
/// checks an image against the platform's rules before it is uploaded.
/// Exit 0 clean, 1 broken rules (one line each), 2 unreadable input or bad arguments (one line).
/// Every line is escaped: names inside an archive are the image author's text and must not
/// split or forge a line.
/// </summary>
internal static class CheckImageCommand
{
    public const int Clean = 0;
    public const int RulesBroken = 1;
    public const int Unreadable = 2;

    public const string Usage =
        "usage: trainlauncher check-image IMAGE.tar [--base BASE.tar | --base-layers N] [--home /home/work] [--batch]";

    public static int Run(IReadOnlyList<string> args, TextWriter output)
    {
        void Line(string text) => output.WriteLine(OneLine.Escape(text));

        if (args is ["--help"] or ["-h"])
        {
            Line(Usage);
            return Clean;
        }
        if (!TryParse(args, out var request, out var error))
        {
            Line($"check-image: {error}; {Usage}");
            return Unreadable;
        }
        try
        {
            var selection = request.BasePath is null
                ? request.BaseLayers is { } count ? new BaseSelection.FirstLayers(count) : BaseSelection.Default
                : ReadBase(request.BasePath);
            using var image = ImageFiles.OpenArchive(request.ImagePath);
            var summary = ImageChecker.Check(image, new CheckSettings(selection, request.Home, request.Batch),
                finding => Line(finding.ToString()));
            Line(summary.Findings == 0
                ? $"check-image: {request.ImagePath} is clean ({Describe(summary)})"
                : $"check-image: {request.ImagePath} breaks {summary.Findings} rule(s) ({Describe(summary)})");
            return summary.Findings == 0 ? Clean : RulesBroken;
        }
        catch (ImageFormatException e)
        {
            Line($"check-image: {e.Message}");
            return Unreadable;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Line($"check-image: cannot read {request.ImagePath}: {e.Message}");
            return Unreadable;
        }
        catch (Exception e)
        {
            // Last resort, never expected: the fuzz targets call the reader without this net
            // and count any such exception as a crash to fix.
            Line($"check-image: {request.ImagePath}: internal error reading the image ({e.GetType().Name}: {e.Message})");
            return Unreadable;
        }
    }

    private static BaseSelection.Layers ReadBase(string path)
    {
        using var files = ImageFiles.OpenArchive(path);
        return new BaseSelection.Layers(ImageLayout.ReadLayers(files), path);
    }

    private static string Describe(CheckSummary summary) =>
        $"{summary.LayerCount} layers, {summary.BaseLayerCount} base, {ImageChecker.Gb(summary.TotalBytes)}";

    private sealed record Request(string ImagePath, string? BasePath, int? BaseLayers, string Home, bool Batch);

    private static bool TryParse(IReadOnlyList<string> args, out Request request, out string error)
    {
        request = new Request("", null, null, "/home/work", false);
        string? image = null;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string? inlineValue = null;
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=') is > 2 and var eq)
            {
                inlineValue = arg[(eq + 1)..];
                arg = arg[..eq];
            }
            string? Value()
            {
                if (inlineValue is not null)
                    return inlineValue;
                return i + 1 < args.Count ? args[++i] : null;
            }
            switch (arg)
            {
                case "--base":
                    if (Value() is not { Length: > 0 } basePath)
                        return Fail("--base needs an image archive", out error);
                    request = request with { BasePath = basePath };
                    break;
                case "--base-layers":
                    string? count = Value();
                    if (!int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
                        return Fail($"--base-layers needs a whole number, not \"{count}\"", out error);
                    request = request with { BaseLayers = n };
                    break;
                case "--home":
                    if (Value() is not { } home || !home.StartsWith('/'))
                        return Fail("--home needs an absolute path", out error);
                    request = request with { Home = LayerReader.Normalize(home) };
                    break;
                case "--batch":
                    if (inlineValue is not null)
                        return Fail("--batch takes no value", out error);
                    request = request with { Batch = true };
                    break;
                default:
                    if (arg.StartsWith('-'))
                        return Fail($"unknown option {arg}", out error);
                    if (image is not null)
                        return Fail($"one image at a time (got {image} and {arg})", out error);
                    image = arg;
                    break;
            }
        }
        if (image is null)
            return Fail("no image archive given", out error);
        if (request.BasePath is not null && request.BaseLayers is not null)
            return Fail("give --base or --base-layers, not both", out error);
        request = request with { ImagePath = image };
        error = "";
        return true;
    }

    private static bool Fail(string message, out string error)
    {
        error = message;
        return false;
    }
}
