using System.Net.Sockets;
using System.Net;
using TrainLauncher.Cluster;
using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Cluster;

public sealed class MasterWaiterSpecs
{
    /// <summary>Time moves only when the waiter pauses.</summary>
    private sealed class FakeClock : TimeProvider
    {
        private long _ticks;
        public List<TimeSpan> Pauses { get; } = [];
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => _ticks;

        public Task Pause(TimeSpan pause, CancellationToken _)
        {
            Pauses.Add(pause);
            _ticks += pause.Ticks;
            return Task.CompletedTask;
        }
    }

    private readonly FakeClock _clock = new();
    private readonly List<string> _reports = [];
    private int _tries;

    private MasterWaiter Waiter(int failures) => new(
        new ListLogger(_reports),
        (host, _) => ++_tries > failures
            ? Task.FromResult(new[] { IPAddress.Parse("10.0.0.7") })
            : throw new SocketException((int)SocketError.HostNotFound),
        _clock.Pause,
        _clock);

    [Fact]
    public async Task Returns_at_once_when_the_master_resolves()
    {
        var addresses = await Waiter(failures: 0).WaitAsync("w0.job", MasterWaiter.DefaultBound, CancellationToken.None);

        Assert.Equal(IPAddress.Parse("10.0.0.7"), Assert.Single(addresses));
        Assert.Empty(_clock.Pauses);
        Assert.Empty(_reports);
    }

    [Fact]
    public async Task Retries_with_back_off_until_the_master_resolves()
    {
        var addresses = await Waiter(failures: 7).WaitAsync("w0.job", MasterWaiter.DefaultBound, CancellationToken.None);

        Assert.Equal(IPAddress.Parse("10.0.0.7"), Assert.Single(addresses));
        Assert.Equal(8, _tries);
        Assert.Equal([0.5, 1, 2, 4, 8, 10, 10], _clock.Pauses.Select(p => p.TotalSeconds));
        Assert.StartsWith("waiting up to 600 s for the master w0.job to resolve", _reports[0], StringComparison.Ordinal);
        Assert.Equal("master w0.job resolved to 10.0.0.7 after 8 tries", _reports[^1]);
    }

    [Fact]
    public async Task Times_out_naming_the_host()
    {
        var error = await Assert.ThrowsAsync<ClusterLayoutException>(
            () => Waiter(failures: int.MaxValue).WaitAsync("w0.job", TimeSpan.FromSeconds(60), CancellationToken.None));

        Assert.StartsWith("master host w0.job (MASTER_ADDR) did not resolve within 60 s", error.Message, StringComparison.Ordinal);
        Assert.Contains("--wait-hosts", error.Message, StringComparison.Ordinal);
        Assert.Equal(60, _clock.Pauses.Sum(p => p.TotalSeconds), precision: 6);
        Assert.All(_clock.Pauses, p => Assert.True(p <= TimeSpan.FromSeconds(10)));
        Assert.Contains(_reports, r => r.StartsWith("still waiting for the master w0.job", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_zero_bound_tries_once()
    {
        await Assert.ThrowsAsync<ClusterLayoutException>(
            () => Waiter(failures: 1).WaitAsync("w0.job", TimeSpan.Zero, CancellationToken.None));

        Assert.Equal(1, _tries);
        Assert.Empty(_clock.Pauses);
    }

    [Fact]
    public async Task The_real_resolver_resolves_localhost()
    {
        var addresses = await new MasterWaiter(new ListLogger(_reports)).WaitAsync("localhost", TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.Contains(addresses, IPAddress.IsLoopback);
    }
}
