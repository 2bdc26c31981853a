using System.Globalization;
using System.Text;
using System.Text.Json;
using TrainLauncher.Output;

namespace TrainLauncher.Cluster;

/// <summary>
/// Turns the platform's layout variables into what torchrun, one-process-per-node programs,
/// TensorFlow and mpirun read (SPEC 9), never overriding a variable that is already set.
/// </summary>
internal static class ClusterLayout
{
    public const int DefaultMasterPort = 29500;
    public const int DefaultTfPort = 2222;
    public const string HostfileVariable = "TRAINLAUNCHER_HOSTFILE";

    /// <param name="environment">The launcher's environment.</param>
    /// <param name="visibleAccelerators">Devices the command may use (after <c>--gpus</c>); 0 → 1 process per node.</param>
    /// <param name="hostfilePath">Where a multi-node job's hostfile goes.</param>
    /// <param name="tfPort"><c>--tf-port</c>: TF_CONFIG's port for hosts listed without one.</param>
    /// <exception cref="ClusterLayoutException">The layout is inconsistent; the message names the variable.</exception>
    public static ClusterPlan Plan(
        IReadOnlyDictionary<string, string> environment, int visibleAccelerators, string hostfilePath, int tfPort = DefaultTfPort)
    {
        if (!HostEntry.TryParsePort(tfPort.ToString(CultureInfo.InvariantCulture), out _))
            throw new ClusterLayoutException($"--tf-port {tfPort} is not a port number: give 1..65535");

        var platform = PlatformLayout.Read(environment);
        var position = Effective(environment, platform, Math.Max(1, visibleAccelerators));

        var wanted = new List<KeyValuePair<string, string>>
        {
            new("MASTER_ADDR", position.MasterAddress),
            new("MASTER_PORT", Text(position.MasterPort)),
            new("NNODES", Text(position.NodeCount)),
            new("NODE_RANK", Text(position.NodeRank)),
            new("NPROC_PER_NODE", Text(position.ProcessesPerNode)),
            // For one-process-per-node programs (init_method="env://"); torchrun replaces them per worker.
            new("WORLD_SIZE", Text(position.NodeCount)),
            new("RANK", Text(position.NodeRank)),
            // The single process is the node's only local worker; torchrun and --per-device set their own.
            new("LOCAL_RANK", "0"),
            new("LOCAL_WORLD_SIZE", "1"),
            // torchrun reads its options from PET_<OPTION>, so a bare `torchrun train.py` joins the job.
            new("PET_NNODES", Text(position.NodeCount)),
            new("PET_NODE_RANK", Text(position.NodeRank)),
            new("PET_NPROC_PER_NODE", Text(position.ProcessesPerNode)),
            new("PET_MASTER_ADDR", position.MasterAddress),
            new("PET_MASTER_PORT", Text(position.MasterPort)),
        };

        var notes = new List<string>();
        string? hostfilePathToWrite = null;
        var hostfileText = "";
        if (position.IsMultiNode)
        {
            if (platform.Hosts.Count == position.NodeCount)
            {
                wanted.Add(new("TF_CONFIG", TfConfig(platform.Hosts, position.NodeRank, tfPort)));
                hostfileText = string.Concat(platform.Hosts.Select(h => $"{h.Host} slots={position.ProcessesPerNode}\n"));
                if (PlatformLayout.Value(environment, HostfileVariable) is null)
                    hostfilePathToWrite = hostfilePath;
                wanted.Add(new(HostfileVariable, hostfilePath));
            }
            else
            {
                notes.Add($"no TF_CONFIG and no hostfile: NNODES={position.NodeCount} but the platform lists {platform.Hosts.Count} hosts");
            }
        }

        var (set, kept) = SetOrKept(environment, wanted);
        return new ClusterPlan(position, platform.Sources, set, kept, hostfilePathToWrite, hostfileText, notes);
    }

    /// <summary>The wanted variables the environment leaves unset (to set), and those it has (kept, with its values).</summary>
    public static (List<KeyValuePair<string, string>> Set, List<KeyValuePair<string, string>> Kept) SetOrKept(
        IReadOnlyDictionary<string, string> environment, IEnumerable<KeyValuePair<string, string>> wanted)
    {
        var set = new List<KeyValuePair<string, string>>();
        var kept = new List<KeyValuePair<string, string>>();
        foreach (var v in wanted)
        {
            if (PlatformLayout.Value(environment, v.Key) is null) set.Add(v);
            else kept.Add(new(v.Key, environment[v.Key]));
        }
        return (set, kept);
    }

    // The user's own MASTER_ADDR, NNODES, ... win over the platform's, and everything derived
    // (WORLD_SIZE, PET_*, TF_CONFIG's index, the hostfile's slots) follows them.
    private static ClusterPosition Effective(IReadOnlyDictionary<string, string> environment, PlatformLayout platform, int processes)
    {
        var nodes = UserNumber(environment, "NNODES", 1) ?? platform.Count;
        var rank = UserNumber(environment, "NODE_RANK", 0) ?? platform.Rank;
        if (rank >= nodes)
            throw new ClusterLayoutException(
                $"NODE_RANK={rank} is not below NNODES={nodes}: fix or unset NODE_RANK/NNODES");
        var perNode = UserNumber(environment, "NPROC_PER_NODE", 1) ?? processes;

        var master = PlatformLayout.Value(environment, "MASTER_ADDR")
            ?? (nodes > 1 && platform.Hosts.Count > 0 ? platform.Hosts[0].Host : null)
            ?? (nodes == 1 ? "127.0.0.1" : throw new ClusterLayoutException(
                $"NNODES={nodes} but MASTER_ADDR is not set and the platform lists no hosts: set MASTER_ADDR"));

        int port;
        if (PlatformLayout.Value(environment, "MASTER_PORT") is { } text)
        {
            if (!HostEntry.TryParsePort(text, out port))
                throw new ClusterLayoutException($"MASTER_PORT={OneLine.Escape(text)} is not a port number: give 1..65535 or unset it");
        }
        else
        {
            port = platform.Hosts.Count > 0 ? platform.Hosts[0].Port ?? DefaultMasterPort : DefaultMasterPort;
        }
        return new ClusterPosition(rank, nodes, master, port, perNode);
    }

    private static int? UserNumber(IReadOnlyDictionary<string, string> environment, string name, int minimum) =>
        PlatformLayout.Value(environment, name) is { } text ? PlatformLayout.Number(name, text, minimum) : null;

    private static string TfConfig(IReadOnlyList<HostEntry> hosts, int rank, int tfPort)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("cluster");
            json.WriteStartArray("worker");
            foreach (var host in hosts)
                json.WriteStringValue(host.WithPort(host.Port ?? tfPort));
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteStartObject("task");
            json.WriteString("type", "worker");
            json.WriteNumber("index", rank);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
