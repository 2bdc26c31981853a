using System.Globalization;
using System.Text;
using System.Text.Json;
using TrainLauncher.Output;

namespace TrainLauncher.Cluster;

/// <summary>
/// An HCCL rank table (<c>RANK_TABLE_FILE</c>), as ModelArts mounts it for Ascend jobs, in either
/// format: 1.0 (<c>{"version": "1.0", "server_list": [{"server_id": IP, "device": [{"device_id",
/// "device_ip", "rank_id"}]}]}</c>) or 0.x (<c>{"group_list": [{"instance_list": [{"server_id",
/// "rank_id", "devices": [{"device_id", "device_ip"}]}]}]}</c>). Numbers are strings in both, as
/// HCCL writes them; plain JSON numbers are accepted too. Reading it is reading outside input:
/// any other shape is a <see cref="ClusterLayoutException"/> with one line.
/// </summary>
internal sealed record RankTable(string Format, IReadOnlyList<RankTableDevice> Devices)
{
    public const string Variable = "RANK_TABLE_FILE";
    public const int MaxBytes = 4 << 20;
    private const int MaxDepth = 16;

    /// <exception cref="ClusterLayoutException">unreadable, not a rank table, or inconsistent.</exception>
    public static RankTable Read(string path)
    {
        byte[] content;
        try
        {
            // A regular file only: a FIFO would block the start forever.
            using var file = new FileStream(Storage.LocalFiles.OpenRegular(path, followLink: true).Handle, FileAccess.Read);
            if (file.Length > MaxBytes) throw Bad(path, $"it is larger than {MaxBytes >> 20} MiB");
            content = new byte[file.Length];
            file.ReadExactly(content);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Storage.LocalFileException)
        {
            throw new ClusterLayoutException($"{Variable}={OneLine.Escape(path)} cannot be read: {OneLine.Escape(e.Message)}");
        }
        return Parse(content, path);
    }

    /// <exception cref="ClusterLayoutException">not a rank table, or inconsistent.</exception>
    public static RankTable Parse(ReadOnlySpan<byte> content, string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content.ToArray(), new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException e)
        {
            throw Bad(path, "it is not JSON: " + e.Message);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Bad(path, "it is not a JSON object");
            var devices = UntrustedJson.TryGet(root, "server_list", out var servers) ? Version1(servers, path)
                : UntrustedJson.TryGet(root, "group_list", out var groups) ? Version0(groups, path)
                : throw Bad(path, "it has neither server_list (version 1.0) nor group_list (0.x)");
            if (devices.Count == 0)
                throw Bad(path, "it lists no device");
            var twice = devices.GroupBy(d => d.RankId).FirstOrDefault(g => g.Count() > 1);
            if (twice is not null)
                throw Bad(path, $"rank_id {twice.Key} is given to more than one device");
            var placedTwice = devices.GroupBy(d => (d.ServerId, d.DeviceId)).FirstOrDefault(g => g.Count() > 1);
            if (placedTwice is not null)
                throw Bad(path, $"device {OneLine.Escape(placedTwice.Key.DeviceId)} of server {OneLine.Escape(placedTwice.Key.ServerId)} is listed twice");
            return new RankTable(UntrustedJson.TryGet(root, "server_list", out _) ? "1.0" : "0.x", devices);
        }
    }

    /// <summary>Servers in the order the table lists them.</summary>
    public IReadOnlyList<string> Servers => Devices.Select(d => d.ServerId).Distinct().ToList();

    /// <summary>
    /// A 1.0 table for <paramref name="servers"/> (in node-rank order), each with the same
    /// <paramref name="deviceIds"/>; ranks are node rank × devices + local index.
    /// </summary>
    public static string Write(IReadOnlyList<string> servers, IReadOnlyList<string> deviceIds)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("version", "1.0");
            json.WriteString("server_count", Text(servers.Count));
            json.WriteStartArray("server_list");
            for (int node = 0; node < servers.Count; node++)
            {
                json.WriteStartObject();
                json.WriteString("server_id", servers[node]);
                json.WriteStartArray("device");
                for (int local = 0; local < deviceIds.Count; local++)
                {
                    json.WriteStartObject();
                    json.WriteString("device_id", deviceIds[local]);
                    json.WriteString("rank_id", Text(node * deviceIds.Count + local));
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteString("status", "completed");
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static List<RankTableDevice> Version1(JsonElement servers, string path)
    {
        var devices = new List<RankTableDevice>();
        foreach (var server in Array(servers, "server_list", path))
        {
            string serverId = String(server, "server_id", "server_list[]", path);
            if (!UntrustedJson.TryGet(server, "device", out var list))
                throw Bad(path, $"server {OneLine.Escape(serverId)} has no device list");
            foreach (var device in Array(list, "device", path))
                devices.Add(new RankTableDevice(serverId, String(device, "device_id", "device[]", path), Number(device, "rank_id", "device[]", path)));
        }
        return devices;
    }

    private static List<RankTableDevice> Version0(JsonElement groups, string path)
    {
        var devices = new List<RankTableDevice>();
        foreach (var group in Array(groups, "group_list", path))
        {
            if (!UntrustedJson.TryGet(group, "instance_list", out var instances))
                throw Bad(path, "a group_list entry has no instance_list");
            foreach (var instance in Array(instances, "instance_list", path))
            {
                string serverId = String(instance, "server_id", "instance_list[]", path);
                int rank = Number(instance, "rank_id", "instance_list[]", path);
                if (!UntrustedJson.TryGet(instance, "devices", out var list))
                    throw Bad(path, $"instance of rank {rank} has no devices");
                var own = Array(list, "devices", path).ToList();
                // One device per instance: the instance's rank is that device's.
                if (own.Count != 1)
                    throw Bad(path, $"instance of rank {rank} lists {own.Count} devices; HCCL's 0.x table has one per instance");
                devices.Add(new RankTableDevice(serverId, String(own[0], "device_id", "devices[]", path), rank));
            }
        }
        return devices;
    }

    private static JsonElement.ArrayEnumerator Array(JsonElement value, string name, string path) =>
        value.ValueKind == JsonValueKind.Array ? value.EnumerateArray() : throw Bad(path, $"{name} is not a list");

    /// <summary>A non-empty identifier: HCCL writes ids as strings; a number is accepted as its text.</summary>
    private static string String(JsonElement owner, string name, string where, string path)
    {
        if (!UntrustedJson.TryGet(owner, name, out var value))
            throw Bad(path, $"a {where} entry has no {name}");
        string text = value.ValueKind switch
        {
            JsonValueKind.String => UntrustedJson.TryGetText(value, out var decoded) ? decoded : "", // refused as an empty id below
            JsonValueKind.Number => value.GetRawText(),
            _ => throw Bad(path, $"{name} of a {where} entry is a {value.ValueKind.ToString().ToLowerInvariant()}, not a string"),
        };
        if (text.Length == 0 || text.Length > 256 || text.Any(char.IsControl))
            throw Bad(path, $"{name} '{OneLine.Escape(text.Length > 256 ? text[..256] + "..." : text)}' of a {where} entry is empty, too long or has control characters");
        return text;
    }

    private static int Number(JsonElement owner, string name, string where, string path)
    {
        string text = String(owner, name, where, path);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int number)
            ? number
            : throw Bad(path, $"{name} '{OneLine.Escape(text)}' of a {where} entry is not a whole number >= 0");
    }


    private static ClusterLayoutException Bad(string path, string why) =>
        new($"{Variable}={OneLine.Escape(path)} is not a usable HCCL rank table: {OneLine.Escape(why)}");

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
