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

    /// <summary>Where listeners answer the barriers of <see cref="ChangeBarrier"/>.</summary>
    public const string AckChannel = "pan_change_acks";

    /// <summary>The listener's application_name in pg_stat_activity.</summary>
    public const string ApplicationName = "pan-change-listener";

    private const int KeepAliveSeconds = 5;

    /// <summary>How often the listener sessions on the database are counted (for <see cref="ChangeBarrier"/>).</summary>
    private const int CountEveryMs = 2_000;

    private volatile bool countNow;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.IsPostgres)
        {
            return Task.CompletedTask;
        }

        // Why a dedicated thread blocked in a synchronous wait: a notification must be handled the moment it arrives,
        // not after the request work queued ahead of it in the thread pool; a revocation is only as immediate on this
        // node as this handler.
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Listen(stoppingToken);
            }
            finally
            {
                feed.SetLive(false);
                done.TrySetResult();
            }
        })
        {
            IsBackground = true,
            Name = "pan-change-listener",
        };
        thread.Start();
        return done.Task;
    }

    private void Listen(CancellationToken stoppingToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(DatabaseServiceCollectionExtensions.ConnectionString(configuration, options.Value.Provider))
        {
            Pooling = false,
            KeepAlive = KeepAliveSeconds,
            ApplicationName = ApplicationName,
            MaxAutoPrepare = 0,
        };
        using var barrier = new ChangeBarrier(
            new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Pooling = true, ApplicationName = "pan-change-barrier" }.ConnectionString, logger);
        feed.AllNodesHeard = barrier.WaitAllNodesAsync;
        var delay = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                using var connection = new NpgsqlConnection(builder.ConnectionString);
                var answers = new List<string>();
                connection.Notification += (_, e) => OnNotification(e.Channel, e.Payload, barrier, answers);
                connection.Open();
                using (var listen = new NpgsqlCommand($"LISTEN {Channel}; LISTEN {AckChannel}", connection))
                {
                    listen.ExecuteNonQuery();
                }

                if (!TriggersInstalled(connection))
                {
                    // Why: without the triggers (schema not migrated yet) no change would ever be announced, and a cache
                    // fed by silence would keep revoked tokens; stay dark and look again.
                    logger.LogWarning("The pan_changes triggers are missing (database not migrated?); in-memory caches stay off");
                    if (stoppingToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(5)))
                    {
                        return;
                    }

                    continue;
                }

                // Why before going live: the other nodes count listeners again when they hear this, so that their
                // revoking calls wait for this node from the moment it may hold copies.
                using (var hello = new NpgsqlCommand("SELECT pg_notify($1, $2)", connection))
                {
                    hello.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Channel });
                    hello.Parameters.Add(new NpgsqlParameter<string> { TypedValue = barrier.Hello });
                    hello.ExecuteNonQuery();
                }

                barrier.KnownListeners = CountListeners(connection);
                feed.SetLive(true);
                delay = TimeSpan.FromMilliseconds(200);
                logger.LogInformation("Listening for data changes on {Channel}", Channel);
                var nextCount = Environment.TickCount64 + CountEveryMs;
                while (!stoppingToken.IsCancellationRequested)
                {
                    connection.Wait(500);
                    Answer(connection, answers);
                    if (countNow || Environment.TickCount64 >= nextCount)
                    {
                        countNow = false;
                        barrier.KnownListeners = CountListeners(connection);
                        nextCount = Environment.TickCount64 + CountEveryMs;
                    }
                }

                return;
            }
            catch (Exception ex)
            {
                feed.SetLive(false);
                logger.LogWarning("Change listener lost its connection ({Error}); in-memory caches are bypassed until it is back", ex.Message);
            }

            if (stoppingToken.WaitHandle.WaitOne(delay))
            {
                return;
            }

            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5_000));
        }
    }

    /// <summary>The three row triggers of the migration ChangeNotifications, on the connection's search path.</summary>
    private static bool TriggersInstalled(NpgsqlConnection connection)
    {
        using var check = new NpgsqlCommand(
            """
            SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE t.tgname = 'pan_changes' AND NOT t.tgisinternal AND t.tgenabled <> 'D'
              AND c.oid IN (to_regclass('members'), to_regclass('accounts'), to_regclass('auth_sessions'))
            """, connection);
        return (long)check.ExecuteScalar()! == 3;
    }

    private static int CountListeners(NpgsqlConnection connection)
    {
        using var count = new NpgsqlCommand(
            "SELECT count(*)::int FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()", connection);
        count.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ApplicationName });
        return (int)count.ExecuteScalar()!;
    }

    /// <summary>Answers the barriers heard (after the changes before them were handled), in one statement.</summary>
    private static void Answer(NpgsqlConnection connection, List<string> answers)
    {
        if (answers.Count == 0)
        {
            return;
        }

        using var answer = new NpgsqlCommand("SELECT pg_notify($1, b) FROM unnest($2::text[]) AS b", connection);
        answer.Parameters.Add(new NpgsqlParameter<string> { TypedValue = AckChannel });
        answer.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. answers] });
        answers.Clear();
        answer.ExecuteNonQuery();
    }

    private void OnNotification(string channel, string payload, ChangeBarrier barrier, List<string> answers)
    {
        if (channel == AckChannel)
        {
            barrier.Answered(payload);
            return;
        }

        if (payload.StartsWith("h:", StringComparison.Ordinal))
        {
            if (payload != barrier.Hello)
            {
                // Why at once: the new node may hold copies as soon as it is live; wait for it from now on.
                barrier.KnownListeners = Math.Max(barrier.KnownListeners, 2);
                countNow = true;
            }

            return;
        }

        if (payload.StartsWith("b:", StringComparison.Ordinal))
        {
            // Why answer after Wait returns: no command may run on the connection while it is delivering notifications.
            answers.Add(payload);
            return;
        }

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
