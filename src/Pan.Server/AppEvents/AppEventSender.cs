using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.AppEvents;
using Pan.Data.Outbox;
using Pan.Server.Errors;
using Pan.Server.Keys;
using Pan.Server.Outbox;

namespace Pan.Server.AppEvents;

/// <summary>
/// Delivers queued events (<c>app_event_outbox</c>) to each app's endpoint: one POST per claim, of the body queued with
/// the event, signed at send time with the app's current secret (<c>Pan-Signature: t=…,v1=…</c>), and with the secret it
/// replaced too while a rotation's overlap lasts (<c>t=…,v1=&lt;new&gt;,v1=&lt;previous&gt;</c>). Any 2xx is
/// delivered. Any other status (redirects are not followed), a timeout or a connection error is retried by the outbox
/// with a doubling delay (<see cref="AppEventsOptions"/>) until <c>GiveUpAfterHours</c> after the change; then the event
/// is given up with a warning. The event goes to the app's URL at send time; an app whose events were turned off gets
/// none of its queued ones. Unlike messages to a member, these are sent after the member's deletion: that is what they report.
/// Each app's events go out in a lane of their own (<see cref="SendDueAsync"/>), so an endpoint that is slow or dead
/// holds up only its own app's events; and once one of an app's events fails, its others wait for that one's retry
/// (<see cref="DueOfAsync"/>), so a dead endpoint costs one time limit per round.
/// </summary>
public sealed class AppEventSender(
    IServiceScopeFactory scopes,
    IHttpClientFactory httpClients,
    KeyEncryption keys,
    TimeProvider clock,
    IOptions<AppEventsOptions> options,
    ILogger<AppEventSender> logger,
    Metrics.PanMetrics metrics)
    : OutboxSender<AppEventOutboxEntry>(scopes, clock, options.Value, "app event", logger)
{
    /// <summary>The named <see cref="HttpClient"/> events are sent with (no redirects, no cookies).</summary>
    public const string HttpClientName = "Pan.AppEvents";

    /// <summary>Why an app's queued events are given up when its subscription is gone.</summary>
    public const string SubscriptionRemoved = "the app's events were turned off";

    private readonly Lock gate = new();
    private readonly Dictionary<string, Lane> lanes = new(StringComparer.Ordinal);

    protected override bool SendsForDeletedMembers => true;

    /// <summary>
    /// Starts a lane for each app with events due now that has none running, and returns how many apps have events
    /// due; the lanes send in the background. A lane sends its app's due events one after another (each claimed as
    /// the outbox claims rows) until none is due, then ends.
    /// </summary>
    /// <remarks>
    /// Why a lane per app rather than one queue: an endpoint that never answers costs <c>TimeoutSeconds</c> per event,
    /// and a backlog of them in one queue would hold every other app's events for as long. Why the lanes are not
    /// awaited: the next pass must be able to start the lane of an app whose events came in while another app's lane
    /// waits on its endpoint.
    /// </remarks>
    public override async Task<int> SendDueAsync(CancellationToken cancellationToken)
    {
        List<string> apps;
        await using (var scope = Scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
            var now = Clock.GetUtcNow();
            apps = await Due(db, now).Select(e => e.AppId).Distinct().ToListAsync(cancellationToken);
        }

        lock (gate)
        {
            foreach (var app in apps)
            {
                if (lanes.TryGetValue(app, out var running))
                {
                    // Why: the lane may just have found nothing due; it looks once more before it ends.
                    running.Again = true;
                    continue;
                }

                var lane = new Lane();
                lanes[app] = lane;
                lane.Task = Task.Run(() => RunLaneAsync(app, lane, cancellationToken), CancellationToken.None);
            }
        }

        return apps.Count;
    }

    /// <summary>Completes when every lane running now has ended (at shutdown, after the lanes were cancelled).</summary>
    public Task LanesEndedAsync()
    {
        lock (gate)
        {
            return Task.WhenAll(lanes.Values.Select(l => l.Task));
        }
    }

    protected override string ExpiredReason => $"not delivered within {options.Value.GiveUpAfterHours} hour(s)";

    protected override async Task<OutboxDelivery> DeliverAsync(IServiceProvider services, AppEventOutboxEntry row, string payload, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<PanDbContext>();
        var appId = row.AppId;
        var subscription = await db.Set<AppEventSubscription>().AsNoTracking().SingleOrDefaultAsync(s => s.AppId == appId, cancellationToken);
        if (subscription is null)
        {
            metrics.AppEventDelivery("abandoned");
            return OutboxDelivery.Abandoned(SubscriptionRemoved);
        }

        var secret = keys.Unprotect(subscription.Secret, KeyContexts.For(subscription), KeyContexts.Describe(subscription));
        var timestamp = Clock.GetUtcNow().ToUnixTimeSeconds();
        var seconds = options.Value.TimeoutSeconds;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds), TimeProvider.System);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var request = new HttpRequestMessage(HttpMethod.Post, subscription.Url)
        {
            Content = new StringContent(payload, Encoding.UTF8, "application/json"),
        };
        var t = timestamp.ToString(CultureInfo.InvariantCulture);
        request.Headers.Add("Pan-Event-Id", row.EventId.ToString("D"));
        request.Headers.Add("Pan-Event-Type", row.Kind);
        request.Headers.Add("Pan-Timestamp", t);
        var signature = $"t={t},v1={AppEventSecrets.Sign(secret, timestamp, payload)}";
        if (subscription.PreviousSecret is { } wrapped && subscription.PreviousSecretUntil > Clock.GetUtcNow())
        {
            // Why both: within the overlap after a rotation the app may still hold the previous secret.
            var previous = keys.Unprotect(wrapped, KeyContexts.ForPrevious(subscription), KeyContexts.DescribePrevious(subscription));
            signature += $",v1={AppEventSecrets.Sign(previous, timestamp, payload)}";
        }

        request.Headers.Add("Pan-Signature", signature);
        request.Headers.UserAgent.ParseAdd("Pan-Events/1");

        // Why the failures are described without the URL: it is the operator's setting, already known; the message is
        // recorded on the row and logged, and a URL may carry a token in its query.
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            if (!response.IsSuccessStatusCode)
            {
                metrics.AppEventDelivery("failed");
                throw new DependencyUnavailableException($"the app's endpoint answered HTTP {(int)response.StatusCode}");
            }
        }
        catch (HttpRequestException ex)
        {
            metrics.AppEventDelivery("failed");
            throw new DependencyUnavailableException("the app's endpoint could not be reached (connection error)", ex);
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            metrics.AppEventDelivery("failed");
            throw new DependencyUnavailableException($"the app's endpoint did not answer within {seconds} s", ex);
        }

        metrics.AppEventDelivery("delivered");

        logger.LogInformation("Delivered {Kind} event {EventId} about member {Uid} to app {AppId} (attempt {Attempt})", row.Kind, row.EventId, row.Uid, row.AppId, row.Attempts);
        return OutboxDelivery.Sent;
    }

    /// <summary>One request (no transport retries: the outbox retries), and a margin.</summary>
    protected override TimeSpan Lease() => LeaseFor(options.Value.TimeoutSeconds, 0, 0);

    private async Task RunLaneAsync(string appId, Lane lane, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                lock (gate)
                {
                    lane.Again = false;
                }

                var progressed = false;
                foreach (var id in await DueOfAsync(appId, cancellationToken))
                {
                    var attempt = await AttemptAsync(id, cancellationToken);
                    progressed |= attempt != OutboxAttempt.NotClaimed;
                    if (attempt == OutboxAttempt.RetryLater)
                    {
                        // Why stop at the first failure: the endpoint is down or slow for all of them; the next look
                        // (DueOfAsync) makes the others wait for this one's retry.
                        break;
                    }
                }

                lock (gate)
                {
                    if (!progressed && !lane.Again)
                    {
                        return;
                    }
                }
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "App event lane of app {AppId} failed; its events are tried again at the next pass", appId);
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
        finally
        {
            lock (gate)
            {
                if (lanes.TryGetValue(appId, out var current) && current == lane)
                {
                    lanes.Remove(appId);
                }
            }
        }
    }

    /// <summary>
    /// The app's events to try now, oldest due first; none while one of its events waits for a retry after a failed
    /// delivery: then its due events are moved to that retry (their attempts and give-up time untouched) and tried
    /// after it, by whichever node claims them.
    /// </summary>
    /// <remarks>
    /// Why: an endpoint that is down fails every event alike; trying each in turn costs one time limit per event every
    /// round and tells nothing the first failure did not. Why the wait is written to the rows rather than kept by this
    /// node: every node's lane sees it, and it lasts across restarts.
    /// </remarks>
    private async Task<List<long>> DueOfAsync(string appId, CancellationToken cancellationToken)
    {
        await using var scope = Scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var now = Clock.GetUtcNow();
        var retry = await db.Set<AppEventOutboxEntry>()
            .Where(e => e.AppId == appId && e.State == OutboxState.Pending && e.LastError != null && e.NextAttempt > now)
            .OrderBy(e => e.NextAttempt).Select(e => (DateTimeOffset?)e.NextAttempt).FirstOrDefaultAsync(cancellationToken);
        if (retry is { } until)
        {
            await Due(db, now).Where(e => e.AppId == appId).ExecuteUpdateAsync(u => u.SetProperty(e => e.NextAttempt, until), cancellationToken);
            return [];
        }

        return await Due(db, now).Where(e => e.AppId == appId)
            .OrderBy(e => e.NextAttempt).ThenBy(e => e.Id).Select(e => e.Id).Take(Batch).ToListAsync(cancellationToken);
    }

    private sealed class Lane
    {
        /// <summary>Set when a pass found this app's events due while the lane ran: it looks once more before ending.</summary>
        public bool Again { get; set; }

        public Task Task { get; set; } = Task.CompletedTask;
    }
}

/// <summary>This node's sender of queued app events (<see cref="OutboxWorker{TSender, TOptions}"/>).</summary>
public sealed class AppEventWorker(IServiceProvider services, AppEventSignal signal, IOptions<AppEventsOptions> options, ILogger<AppEventWorker> logger)
    : OutboxWorker<AppEventSender, AppEventsOptions>(services, signal, options, "App event", logger)
{
    /// <summary>Stops the passes, then waits for the app lanes (cancelled with them) to hand back their rows.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (ExecuteTask is not null)
        {
            await Services.GetRequiredService<AppEventSender>().LanesEndedAsync().WaitAsync(cancellationToken);
        }
    }
}
