using Microsoft.Extensions.Options;
using Npgsql;

namespace Pan.Server.Data.Changes;

/// <summary>
/// Keeps one dedicated PostgreSQL connection LISTENing on <c>pan_changes</c> and hands every notification to this
/// node's <see cref="DataChangeFeed"/>. The feed is live only while the LISTEN stands: when the connection drops the
/// feed goes dark (caches stop answering from memory and drop their copies) until a new LISTEN is in place.
/// </summary>
/// <remarks>
/// PostgreSQL delivers a notification to every listener when the writing transaction commits, so a revocation on any
/// node reaches this one within the delivery time (well under a millisecond on a LAN). A connection that dies quietly is
/// noticed by Npgsql's keepalive (every <see cref="KeepAliveSeconds"/> s); until then copies older than
/// <c>Pan:Tokens:CacheSeconds</c> are still re-read from the database.
/// </remarks>
internal sealed class PostgresChangeListener(DataChangeFeed feed, IOptions<DatabaseOptions> options, IConfiguration configuration, ILogger<PostgresChangeListener> logger) : BackgroundService
{
    public const string Channel = "pan_changes";

    /// <summary>The listener's application_name in pg_stat_activity.</summary>
    public const string ApplicationName = "pan-change-listener";

    private const int KeepAliveSeconds = 5;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.IsPostgres)
        {
            return;
        }

        var builder = new NpgsqlConnectionStringBuilder(DatabaseServiceCollectionExtensions.ConnectionString(configuration, options.Value.Provider))
        {
            Pooling = false,
            KeepAlive = KeepAliveSeconds,
            ApplicationName = ApplicationName,
            MaxAutoPrepare = 0,
        };
        var delay = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                connection.Notification += (_, e) => OnNotification(e.Payload);
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                feed.SetLive(true);
                delay = TimeSpan.FromMilliseconds(200);
                logger.LogInformation("Listening for data changes on {Channel}", Channel);
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                feed.SetLive(false);
                logger.LogWarning("Change listener lost its connection ({Error}); in-memory caches are bypassed until it is back", ex.Message);
            }

            try
            {
                await Task.Delay(delay, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5_000));
        }

        feed.SetLive(false);
    }

    private void OnNotification(string payload)
    {
        var changes = new List<RowChange>();
        foreach (var part in payload.Split(','))
        {
            if (RowChange.TryParse(part, out var change))
            {
                changes.Add(change);
            }
        }

        feed.PublishHeard(changes);
    }
}
