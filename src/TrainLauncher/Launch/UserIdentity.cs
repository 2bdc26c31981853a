using TrainLauncher.Interop;

namespace TrainLauncher.Launch;

/// <summary>`id`'s first two fields, read without starting a process.</summary>
internal static class UserIdentity
{
    public static string Describe()
    {
        uint uid = Native.getuid(), gid = Native.getgid();
        return $"uid={uid}({NameOf("/etc/passwd", uid)}) gid={gid}({NameOf("/etc/group", gid)})";
    }

    private static string NameOf(string database, uint id)
    {
        try
        {
            foreach (var line in File.ReadLines(database))
            {
                var fields = line.Split(':');
                if (fields.Length > 2 && fields[2] == id.ToString(System.Globalization.CultureInfo.InvariantCulture)) return fields[0];
            }
        }
        catch (IOException) { }
        return "?";
    }
}
