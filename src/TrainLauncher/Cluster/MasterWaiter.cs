using System.Net;
using System.Net.Sockets;

namespace TrainLauncher.Cluster;

/// <summary>
/// Multi-node jobs start every node at once, and the master's DNS name (a Kubernetes headless
/// service, a ModelArts worker name) often resolves only some seconds later: wait for it with
/// back-off, bounded by <c>--wait-hosts</c>, instead of letting every engine fail on its own.
/// </summary>
internal sealed class MasterWaiter
{
    public static readonly TimeSpan DefaultBound = TimeSpan.FromSeconds(600);
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(10);

    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve;
    private readonly Func<TimeSpan, CancellationToken, Task> _delay;
    private readonly TimeProvider _clock;
    private readonly Action<string> _report;

    public MasterWaiter(Action<string> report)
        : this(report, Dns.GetHostAddressesAsync, Task.Delay, TimeProvider.System)
    {
    }

    /// <summary>Tests pass a fake resolver, and a delay that moves a fake clock instead of sleeping.</summary>
    internal MasterWaiter(
        Action<string> report,
        Func<string, CancellationToken, Task<IPAddress[]>> resolve,
        Func<TimeSpan, CancellationToken, Task> delay,
        TimeProvider clock)
    {
        _report = report;
        _resolve = resolve;
        _delay = delay;
        _clock = clock;
    }

    /// <summary>Returns the master's addresses once its name resolves.</summary>
    /// <exception cref="ClusterLayoutException">It did not resolve within <paramref name="bound"/>.</exception>
    public async Task<IPAddress[]> WaitAsync(string host, TimeSpan bound, CancellationToken cancellationToken)
    {
        var started = _clock.GetTimestamp();
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            string reason;
            try
            {
                var addresses = await _resolve(host, cancellationToken).ConfigureAwait(false);
                if (addresses.Length > 0)
                {
                    if (attempt > 1)
                        _report($"master {host} resolved to {addresses[0]} after {attempt} tries");
                    return addresses;
                }
                reason = "no address";
            }
            catch (SocketException e)
            {
                reason = e.Message;
            }

            var remaining = bound - _clock.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
                throw new ClusterLayoutException(
                    $"master host {host} (MASTER_ADDR) did not resolve within {bound.TotalSeconds:0} s ({reason}): check that every node of the job started, or raise --wait-hosts");
            var pause = delay < remaining ? delay : remaining;
            if (attempt == 1)
                _report($"waiting up to {bound.TotalSeconds:0} s for the master {host} to resolve ({reason})");
            else if (pause == MaxDelay)
                _report($"still waiting for the master {host} ({_clock.GetElapsedTime(started).TotalSeconds:0} s, {reason})");

            await _delay(pause, cancellationToken).ConfigureAwait(false);
            delay = delay * 2 < MaxDelay ? delay * 2 : MaxDelay;
        }
    }
}
