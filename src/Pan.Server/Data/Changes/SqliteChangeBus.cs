using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.Data.Sqlite;

namespace Pan.Server.Data.Changes;

/// <summary>
/// Hands the row changes one connection committed to every <see cref="DataChangeFeed"/> of the process that works on
/// the same SQLite file (several Pan servers may share a file inside one process, as the two-node tests do).
/// </summary>
internal static class SqliteChangeBus
{
    private static readonly ConcurrentDictionary<string, ImmutableArray<DataChangeFeed>> Feeds = new(StringComparer.Ordinal);

    /// <summary>The file a connection string names, as the key feeds are filed under.</summary>
    public static string KeyOf(string connectionString)
    {
        var source = new SqliteConnectionStringBuilder(connectionString).DataSource;
        return string.IsNullOrEmpty(source) || source == ":memory:" ? source : Path.GetFullPath(source);
    }

    public static IDisposable Subscribe(string key, DataChangeFeed feed)
    {
        Feeds.AddOrUpdate(key, _ => [feed], (_, list) => list.Add(feed));
        return new Subscription(key, feed);
    }

    public static void Publish(string key, IReadOnlyCollection<RowChange> changes)
    {
        if (Feeds.TryGetValue(key, out var feeds))
        {
            foreach (var feed in feeds)
            {
                feed.Publish(changes);
            }
        }
    }

    private sealed class Subscription(string key, DataChangeFeed feed) : IDisposable
    {
        public void Dispose() => Feeds.AddOrUpdate(key, _ => [], (_, list) => list.Remove(feed));
    }
}
