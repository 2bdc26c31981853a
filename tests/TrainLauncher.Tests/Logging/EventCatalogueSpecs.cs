using System.Reflection;
using Microsoft.Extensions.Logging;

namespace TrainLauncher.Tests.Logging;

/// <summary>The launcher's events as a catalogue: one [LoggerMessage] method each, ids per room.</summary>
public class EventCatalogueSpecs
{
    [Fact]
    public void Every_event_has_an_id_and_a_name_of_its_own_and_each_room_keeps_to_its_hundred()
    {
        var events = typeof(TrainLauncher.Launch.LaunchOptions).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
                .Select(m => (Room: t.Name, m.Name, Event: m.GetCustomAttribute<LoggerMessageAttribute>())))
            .Where(e => e.Event is not null)
            .ToList();
        Assert.True(events.Count >= 40, $"{events.Count} events");
        Assert.Equal(events.Count, events.Select(e => e.Event!.EventId).Distinct().Count());
        Assert.Equal(events.Count, events.Select(e => e.Name).Distinct().Count());
        Assert.All(events.GroupBy(e => e.Room), room => Assert.Single(room.Select(e => e.Event!.EventId / 100).Distinct()));
    }
}
