using System.Net;
using Microsoft.Extensions.Logging;
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
    private readonly ILogger _log;

    public MasterWaiter(ILogger log)
        : this(log, Dns.GetHostAddressesAsync, Task.Delay, TimeProvider.System)
    {
    }

    /// <summary>Tests pass a fake resolver, and a delay that moves a fake clock instead of sleeping.</summary>
    internal MasterWaiter(
        ILogger log,
        Func<string, CancellationToken, Task<IPAddress[]>> resolve,
        Func<TimeSpan, CancellationToken, Task> delay,
        TimeProvider clock)
    {
        _log = log;
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
                        _log.MasterResolved(host, addresses[0].ToString(), attempt);
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
                _log.MasterWaiting(bound.TotalSeconds, host, reason);
            else if (pause == MaxDelay)
                _log.MasterStillWaiting(host, _clock.GetElapsedTime(started).TotalSeconds, reason);

            await _delay(pause, cancellationToken).ConfigureAwait(false);
            delay = delay * 2 < MaxDelay ? delay * 2 : MaxDelay;
        }
    }
}
