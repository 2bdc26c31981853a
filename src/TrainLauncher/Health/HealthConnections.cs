using System.Net.Sockets;

namespace TrainLauncher.Health;

/// <summary>
/// The health endpoint's open connections, at most <c>limit</c> at once. When one more arrives
/// at the limit, the oldest connection still waiting for its request is closed: a probe sends
/// its request as soon as it is connected, so only idle clients lose their place, and a flood
/// of them can hold neither the launcher's file descriptors nor the next probe's answer.
/// </summary>
internal sealed class HealthConnections(int limit)
{
    private readonly LinkedList<Connection> _open = new();
    private readonly Lock _lock = new();

    public sealed class Connection(Socket socket)
    {
        public Socket Socket { get; } = socket;
        /// <summary>True until its request was read: only such a connection may be closed for a newer one.</summary>
        public bool Waiting { get; set; } = true;
        public LinkedListNode<Connection>? Node { get; set; }
    }

    public int Count
    {
        get
        {
            lock (_lock)
                return _open.Count;
        }
    }

    /// <summary>The new connection, or null when every open one is being answered (the caller closes the socket).</summary>
    public Connection? Admit(Socket socket)
    {
        Connection? evicted = null;
        var connection = new Connection(socket);
        lock (_lock)
        {
            if (_open.Count >= limit)
            {
                evicted = _open.FirstOrDefault(c => c.Waiting);
                if (evicted is null)
                    return null;
                _open.Remove(evicted.Node!);
            }
            connection.Node = _open.AddLast(connection);
        }
        // Its pending receive fails and its answer task ends quietly.
        evicted?.Socket.Dispose();
        return connection;
    }

    public void Answering(Connection connection)
    {
        lock (_lock)
            connection.Waiting = false;
    }

    public void Close(Connection connection)
    {
        lock (_lock)
        {
            if (connection.Node?.List is not null)
                _open.Remove(connection.Node);
        }
        connection.Socket.Dispose();
    }
}
