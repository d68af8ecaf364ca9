using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.AppEvents;
using Pan.Data.Audit;
using Pan.Data.Members;
using Pan.Data.Outbox;
using Pan.General.Member.Dangerous;
using Pan.Server.AppEvents;
using Pan.Server.Keys;
using Pan.Server.Tokens;
using Pan.Tests.Foundation;
using Pan.Tests.Guests;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Apps;

/// <summary>
/// Events for apps: every deletion of a member sends one signed <c>member.deleted</c> event to each subscribed app's
/// endpoint (a real HTTP server on loopback), written in the deletion's own transaction and retried until delivered;
/// suspensions and restores send <c>member.suspended</c> and <c>member.restored</c> the same way (AppEventsBehaviour.Suspension.cs).
/// </summary>
public abstract partial class AppEventsBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : AppEventsFixture
{
    private PanServer Server => fixture.Server;

    private AppEventInbox Events => fixture.Events;

    private Command.CommandClient Commands => new(Server.Grpc);

    [Fact]
    public async Task DeleteMember_SendsEachSubscribedAppOneSignedEvent_WithTheMembersIdsAndNothingPrivate()
    {
        var owner = await TestMembers.CreateAsync(Server, m => m.Email = $"e{Guid.NewGuid():N}@example.com");
        var member = await TestMembers.AddToPhoneAsync(Server, owner, m => m.Email = $"e{Guid.NewGuid():N}@example.com");
        var phone = await TestMembers.WithDbAsync(Server, db => db.Accounts.Where(a => a.Id == owner.AccountId).Select(a => a.PhoneE164).SingleAsync());

        await Commands.DeleteMemberAsync(new CmdDeleteMemberRequest
        {
            AppId = "jkforum", PanAccessToken = await TestMembers.AccessTokenAsync(Server, member), DelToken = await DelTokenAsync(member.Uid),
        });

        var deliveries = await EventsOfAsync(member, AppEventsFixture.SubscribedApps.Length);
        Assert.Equal(AppEventsFixture.SubscribedApps.Order(), deliveries.Select(d => d.AppId).Order());
        Assert.Equal(2, deliveries.Select(d => d.Headers["Pan-Event-Id"]).Distinct().Count());
        foreach (var delivery in deliveries)
        {
            VerifySignature(delivery, fixture.Secrets[delivery.AppId]);
            using var body = JsonDocument.Parse(delivery.Body);
            var root = body.RootElement;
            Assert.Equal(delivery.Headers["Pan-Event-Id"], root.GetProperty("id").GetString());
            Assert.Equal("member.deleted", root.GetProperty("type").GetString());
            Assert.Equal(Server.Clock.GetUtcNow(), DateTimeOffset.Parse(root.GetProperty("occurred_at").GetString()!, CultureInfo.InvariantCulture));
            var data = root.GetProperty("data");
            Assert.Equal(member.Uid.ToString(CultureInfo.InvariantCulture), data.GetProperty("uid").GetString());
            Assert.Equal(member.ObjectId.ToString("D"), data.GetProperty("object_id").GetString());
            Assert.Equal(member.HashUid, data.GetProperty("hash_uid").GetString());
            Assert.False(data.GetProperty("account_deleted").GetBoolean());
            Assert.Equal(["id", "type", "occurred_at", "data"], root.EnumerateObject().Select(p => p.Name));
            Assert.Equal(["uid", "object_id", "hash_uid", "account_deleted"], data.EnumerateObject().Select(p => p.Name));
            foreach (var secretish in new[] { phone!, phone![1..], member.Email!, member.DisplayName! })
            {
                Assert.DoesNotContain(secretish, delivery.Body, StringComparison.OrdinalIgnoreCase);
            }
        }

        // The rows keep what a support question needs (which event, which app, when), not the body.
        var rows = await RowsAsync(member.Uid);
        Assert.All(rows, r => Assert.Equal((OutboxState.Sent, (string?)null, 1), (r.State, r.Payload, r.Attempts)));
        Assert.Equal(deliveries.Select(d => d.Headers["Pan-Event-Id"]).Order(), rows.Select(r => r.EventId.ToString("D")).Order());
    }

    [Fact]
    public async Task DeleteAccount_OfThreeMembers_SendsAnEventForEachMember_ToEachSubscribedApp_AndNoneToTheOthers()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var members = new[] { owner, await TestMembers.AddToPhoneAsync(Server, owner), await TestMembers.AddToPhoneAsync(Server, owner) };

        await Commands.DeleteAccountAsync(new CmdDeleteAccountRequest
        {
            AppId = "jkforum", PanAccessToken = await TestMembers.AccessTokenAsync(Server, owner), DelToken = await DelTokenAsync(owner.Uid),
        });

        foreach (var member in members)
        {
            var deliveries = await EventsOfAsync(member, AppEventsFixture.SubscribedApps.Length);
            Assert.Equal(AppEventsFixture.SubscribedApps.Order(), deliveries.Select(d => d.AppId).Order());
            Assert.All(deliveries, d =>
            {
                VerifySignature(d, fixture.Secrets[d.AppId]);
                using var body = JsonDocument.Parse(d.Body);
                Assert.True(body.RootElement.GetProperty("data").GetProperty("account_deleted").GetBoolean());
            });
        }

        // No app outside the subscribed ones has a row, let alone a request.
        var uids = members.Select(m => m.Uid).ToList();
        var apps = await TestMembers.WithDbAsync(Server, db => db.Set<AppEventOutboxEntry>().Where(e => uids.Contains(e.Uid)).Select(e => e.AppId).ToListAsync());
        Assert.Equal(6, apps.Count);
        Assert.All(apps, a => Assert.Contains(a, AppEventsFixture.SubscribedApps));
    }

    [Fact]
    public async Task AGuestDeletingItselfThroughTheApinodeRoute_SendsItsEvent()
    {
        const string App = "jkfstar";
        var added = await fixture.CliAsync("apps", "add", App, "--name", App);
        Assert.Equal(0, added.ExitCode);
        Assert.Equal(0, (await fixture.CliAsync("apps", "guest-settings", App, "--account-name", "name", "--activation", "none")).ExitCode);
        var guests = new ApinodeClient(Server, App, PanCli.Secret(added));
        var temp = await guests.CreateTempAsync();
        var delToken = (await guests.CallAsync("deleteVerify", token: temp.Token)).Value.GetProperty("delToken").GetString()!;

        Assert.Equal(0, (await guests.CallAsync("delete", new Dictionary<string, string> { ["delToken"] = delToken }, temp.Token)).Code);

        var member = await TestMembers.WithDbAsync(Server, db => db.Members.AsNoTracking().SingleAsync(m => m.Uid == temp.Id));
        Assert.All(await EventsOfAsync(member, 2), d =>
        {
            VerifySignature(d, fixture.Secrets[d.AppId]);
            using var body = JsonDocument.Parse(d.Body);
            Assert.True(body.RootElement.GetProperty("data").GetProperty("account_deleted").GetBoolean());
        });
    }

    /// <summary>
    /// Turning an app's events off gives up its queued ones in the same transaction (and says how many): they are
    /// not sent when the endpoint comes back, while the other apps' events are.
    /// </summary>
    [Fact]
    public async Task AppsEventsOff_GivesUpThatAppsQueuedEvents_AndLeavesTheOthers()
    {
        const string App = "jkface";
        Assert.Equal(0, (await fixture.CliAsync("apps", "events", App, "--url", Events.UrlOf(App))).ExitCode);
        var member = await TestMembers.CreateAsync(Server);
        Events.FailNext(1000);
        CliRun off;
        try
        {
            await DeleteAsync(member);
            await Eventually.HoldsAsync(async () => (await RowsAsync(member.Uid)) is { Count: 3 } rows
                && rows.All(r => r is { State: OutboxState.Pending, Attempts: 1, ClaimedUntil: null }));
            off = await fixture.CliAsync("apps", "events", App, "--off");
        }
        finally
        {
            Events.Recover();
        }

        Assert.Equal(0, off.ExitCode);
        Assert.Equal("ok: off, 1 queued event(s) given up", (await AuditAsync("app:" + App))[^1].Outcome);
        var given = Assert.Single(await RowsAsync(member.Uid), r => r.AppId == App);
        Assert.Equal((OutboxState.Abandoned, (string?)null, AppEventSender.SubscriptionRemoved), (given.State, given.Payload, given.LastError));

        Server.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(AppEventsFixture.SubscribedApps.Order(), (await EventsOfAsync(member, 2)).Select(d => d.AppId).Order());
    }

    /// <summary>An event is sent to the app's URL at send time: a URL changed while it waits for its retry gets it, signed with the unchanged secret.</summary>
    [Fact]
    public async Task AppsEventsUrl_ChangedWhileEventsWait_SendsThemToTheNewUrl_WithTheSameSecret()
    {
        const string App = "jktalk";
        var subscribe = await fixture.CliAsync("apps", "events", App, "--url", Events.UrlOf(App + "-old"));
        var secret = PanCli.Secret(subscribe);
        var member = await TestMembers.CreateAsync(Server);
        Events.FailNext(1000);
        CliRun change;
        try
        {
            await DeleteAsync(member);
            await Eventually.HoldsAsync(async () => (await RowsAsync(member.Uid)) is { Count: 3 } rows
                && rows.All(r => r is { State: OutboxState.Pending, Attempts: 1, ClaimedUntil: null }));
            change = await fixture.CliAsync("apps", "events", App, "--url", Events.UrlOf(App));
        }
        finally
        {
            Events.Recover();
        }

        Assert.Equal(0, change.ExitCode);
        Assert.DoesNotContain("whsec_", change.Output, StringComparison.Ordinal);
        Assert.Equal("ok: url changed", (await AuditAsync("app:" + App))[^1].Outcome);
        Server.Clock.Advance(TimeSpan.FromMinutes(2));
        var moved = Assert.Single(await EventsOfAsync(member, 3), d => d.AppId.StartsWith(App, StringComparison.Ordinal));
        Assert.Equal(App, moved.AppId);
        VerifySignature(moved, secret);
        Assert.Equal(0, (await fixture.CliAsync("apps", "events", App, "--off")).ExitCode);
    }

    /// <summary>Ended rows go a day after their delivery window; a pending row is left to the sender, which gives it up with a warning.</summary>
    [Fact]
    public async Task TheJanitor_DeletesEndedRowsADayAfterTheirWindow_AndLeavesPendingOnes()
    {
        var now = Server.Clock.GetUtcNow();
        var uid = Random.Shared.NextInt64(1L << 40, 1L << 50);
        await TestMembers.WithDbAsync(Server, async db =>
        {
            foreach (var (state, expires) in new[] { (OutboxState.Sent, now.AddDays(-2)), (OutboxState.Abandoned, now.AddDays(-2)), (OutboxState.Sent, now.AddHours(-1)), (OutboxState.Pending, now.AddDays(-2)) })
            {
                db.Add(new AppEventOutboxEntry
                {
                    AppId = "sugar", EventId = Guid.NewGuid(), Kind = "member.deleted", Uid = uid, State = state,
                    Created = expires.AddHours(-72), Expires = expires, NextAttempt = now.AddYears(1), Finished = state == OutboxState.Pending ? null : expires,
                });
            }

            return await db.SaveChangesAsync();
        });

        await Server.Services.GetRequiredService<AppEventJanitor>().SweepOnceAsync(CancellationToken.None);

        Assert.Equal([OutboxState.Sent, OutboxState.Pending], (await RowsAsync(uid)).OrderBy(r => r.Id).Select(r => r.State));
    }

    [Fact]
    public async Task AnEndpointAnswering500_GetsTheSameEventOnTheRetry()
    {
        var member = await TestMembers.CreateAsync(Server);
        var before = Events.Requests;
        Events.FailNext(AppEventsFixture.SubscribedApps.Length);

        await DeleteAsync(member);
        await Eventually.HoldsAsync(async () => (await RowsAsync(member.Uid)) is { Count: 2 } rows
            && rows.All(r => r is { State: OutboxState.Pending, Attempts: 1, ClaimedUntil: null, LastError: not null }));
        Assert.Equal(before + 2, Events.Requests);
        Assert.Empty(Events.Containing(member.ObjectId.ToString("D")));
        Assert.All(await RowsAsync(member.Uid), r => Assert.Contains("HTTP 500", r.LastError, StringComparison.Ordinal));

        Server.Clock.Advance(TimeSpan.FromMinutes(2));
        var deliveries = await EventsOfAsync(member, 2);
        Assert.All(deliveries, d => VerifySignature(d, fixture.Secrets[d.AppId]));
        Assert.All(await RowsAsync(member.Uid), r => Assert.Equal((OutboxState.Sent, 2), (r.State, r.Attempts)));
    }

    [Fact]
    public async Task AnEndpointDownPastTheDeliveryWindow_GetsTheEventGivenUp_WithAWarningThatHoldsNoSecret()
    {
        var member = await TestMembers.CreateAsync(Server);
        Events.FailNext(1000, System.Net.HttpStatusCode.ServiceUnavailable);
        try
        {
            await DeleteAsync(member);
            await Eventually.HoldsAsync(async () => (await RowsAsync(member.Uid)) is { Count: 2 } rows
                && rows.All(r => r is { State: OutboxState.Pending, Attempts: 1, ClaimedUntil: null, LastError: not null }));

            // Pan:AppEvents:GiveUpAfterHours is 72 by default.
            Server.Clock.Advance(TimeSpan.FromHours(73));
            await Eventually.HoldsAsync(async () => (await RowsAsync(member.Uid)).All(r => r.State == OutboxState.Abandoned));
        }
        finally
        {
            Events.Recover();
        }

        Assert.All(await RowsAsync(member.Uid), r => Assert.Equal(((string?)null, "not delivered within 72 hour(s)"), (r.Payload, r.LastError)));
        Assert.Empty(Events.Containing(member.ObjectId.ToString("D")));
        var gaveUp = fixture.Logs.Lines.Where(l => l.Contains(" Warning: Gave up", StringComparison.Ordinal) && l.Contains("not delivered within 72 hour(s)", StringComparison.Ordinal) && l.Contains(member.Uid.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)).ToList();
        Assert.Equal(2, gaveUp.Count);
        Assert.All(fixture.Logs.Lines, l => Assert.All(fixture.Secrets.Values, s => Assert.DoesNotContain(s, l, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ADeletionWhoseLastWriteFails_QueuesNoEvent_AndTheSameDeletionThenSendsItsEventsOnce()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var delete = new CmdDeleteMemberRequest { AppId = "jkforum", PanAccessToken = access, DelToken = await DelTokenAsync(member.Uid) };

        // The last write: the audit entries, after the tombstone, every eraser and the queued events.
        await using (await FailureTriggers.FailAsync(Server, fixture.Database, "audit_log", TriggeredWrite.Insert, "NEW.action = 'member.delete'"))
        {
            await HalfWrittenChecks.ExpectInternalAsync(() => Commands.DeleteMemberAsync(delete).ResponseAsync);
        }

        Assert.Empty(await RowsAsync(member.Uid));
        // Another member's events arrive: by then anything queued for the first would have left too.
        var other = await TestMembers.CreateAsync(Server);
        await DeleteAsync(other);
        await EventsOfAsync(other, 2);
        Assert.Empty(Events.Containing(member.ObjectId.ToString("D")));

        await Commands.DeleteMemberAsync(delete);
        await EventsOfAsync(member, 2);
        Assert.Equal(2, (await RowsAsync(member.Uid)).Count);
    }

    [Fact]
    public async Task ADeletionWhoseEventCannotBeQueued_DeletesNothing()
    {
        var member = await TestMembers.CreateAsync(Server);
        var delete = new CmdDeleteMemberRequest { AppId = "jkforum", PanAccessToken = await TestMembers.AccessTokenAsync(Server, member), DelToken = await DelTokenAsync(member.Uid) };

        await using (await FailureTriggers.FailAsync(Server, fixture.Database, "app_event_outbox", TriggeredWrite.Insert, member.Uid))
        {
            await HalfWrittenChecks.ExpectInternalAsync(() => Commands.DeleteMemberAsync(delete).ResponseAsync);
        }

        Assert.Null(await TestMembers.WithDbAsync(Server, db => db.Members.Where(m => m.Uid == member.Uid).Select(m => m.Deleted).SingleAsync()));
        Assert.Empty(await RowsAsync(member.Uid));
    }

    [Fact]
    public async Task AppsEvents_WithABadUrl_SaysWhy_AndChangesNothing()
    {
        foreach (var url in new[] { "http://events.example.com/pan", "ftp://events.example.com/pan", "events.example.com/pan", "https://user:pw@events.example.com/pan", "https://events.example.com/a b", "" })
        {
            var run = await fixture.CliAsync("apps", "events", "jr24h", "--url", url);
            Assert.True(run.ExitCode == 2, $"{url}: {run.ExitCode} {run.Error}");
            Assert.Contains("--url", run.Error, StringComparison.Ordinal);
        }

        var unknown = await fixture.CliAsync("apps", "events", "nosuchapp", "--url", "https://events.example.com/pan");
        Assert.Equal(2, unknown.ExitCode);
        var both = await fixture.CliAsync("apps", "events", "jr24h", "--url", "https://events.example.com/pan", "--off");
        Assert.Equal(2, both.ExitCode);
        Assert.False(await TestMembers.WithDbAsync(Server, db => db.Set<AppEventSubscription>().AnyAsync(s => s.AppId == "jr24h")));
        Assert.Empty(await AuditAsync("app:jr24h"));
    }

    [Fact]
    public async Task AppsEvents_SubscribeRotateAndOff_EachCommitWithTheirAuditLine_AndTheSecretIsStoredWrapped()
    {
        const string App = "avplus";
        var subscribe = await fixture.CliAsync("apps", "events", App, "--url", Events.UrlOf(App));
        Assert.Equal(0, subscribe.ExitCode);
        var secret = PanCli.Secret(subscribe);
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Equal(32, Base64UrlDecode(secret["whsec_".Length..]).Length);

        var stored = await TestMembers.WithDbAsync(Server, db => db.Set<AppEventSubscription>().AsNoTracking().SingleAsync(s => s.AppId == App));
        Assert.True(KeyEnvelope.IsEnvelope(stored.Secret));
        Assert.Equal(Events.UrlOf(App), stored.Url);
        var show = await fixture.CliAsync("apps", "events", App);
        Assert.Contains(Events.UrlOf(App), show.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, show.Output, StringComparison.Ordinal);

        var first = await TestMembers.CreateAsync(Server);
        await DeleteAsync(first);
        VerifySignature(Assert.Single(await EventsOfAsync(first, 3), d => d.AppId == App), secret);

        var rotate = await fixture.CliAsync("apps", "events", App, "--rotate-secret");
        Assert.Equal(0, rotate.ExitCode);
        var rotated = PanCli.Secret(rotate);
        Assert.NotEqual(secret, rotated);
        var second = await TestMembers.CreateAsync(Server);
        await DeleteAsync(second);
        VerifySignature(Assert.Single(await EventsOfAsync(second, 3), d => d.AppId == App), rotated);

        var off = await fixture.CliAsync("apps", "events", App, "--off");
        Assert.Equal(0, off.ExitCode);
        var third = await TestMembers.CreateAsync(Server);
        await DeleteAsync(third);
        Assert.DoesNotContain(await EventsOfAsync(third, 2), d => d.AppId == App);

        var audit = await AuditAsync("app:" + App);
        Assert.Equal(["ok: subscribed", "ok: secret rotated", "ok: off, 0 queued event(s) given up"], audit.Select(e => e.Outcome));
        Assert.All(audit, e => Assert.Equal(("cli.apps.events", false, false), (e.Action, e.Outcome.Contains(secret, StringComparison.Ordinal), e.Outcome.Contains(rotated, StringComparison.Ordinal))));
    }

    [Fact]
    public async Task AppsEvents_WhenItsAuditLineIsRefused_ChangesNothing_AndExitsWithOne()
    {
        CliRun run;
        await using (await FailureTriggers.FailAsync(Server, fixture.Database, "audit_log", TriggeredWrite.Insert, "NEW.action = 'cli.apps.events'"))
        {
            run = await fixture.CliAsync("apps", "events", "jkfpost", "--rotate-secret");
        }

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("nothing was changed", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("whsec_", run.Output, StringComparison.Ordinal);
        // The secret the fixture got still signs.
        var member = await TestMembers.CreateAsync(Server);
        await DeleteAsync(member);
        Assert.All(await EventsOfAsync(member, 2), d => VerifySignature(d, fixture.Secrets[d.AppId]));
    }

    [Fact]
    public async Task TwoNodes_DeliverEachEventOnce()
    {
        var members = new List<Member>();
        for (var i = 0; i < 4; i++)
        {
            members.Add(await TestMembers.CreateAsync(Server));
        }

        await DeliverOnceThroughTwoNodesAsync(members, async (node, member) =>
            await new Command.CommandClient(node.Grpc).DeleteMemberAsync(new CmdDeleteMemberRequest
            {
                AppId = "jkforum", PanAccessToken = await TestMembers.AccessTokenAsync(Server, member), DelToken = await DelTokenAsync(member.Uid),
            }));
    }

    /// <summary>
    /// Makes each of <paramref name="members"/>' events by <paramref name="act"/>, through this node and a second one
    /// alternately, while the endpoints fail: each app's first failed event waits for its retry, and the app's other
    /// events wait for that retry untried. Then every row falls due at once and both nodes' senders (and their
    /// background workers) race for them: each event reaches each subscribed app exactly once, signed, tried once more
    /// only if it failed.
    /// </summary>
    private async Task DeliverOnceThroughTwoNodesAsync(List<Member> members, Func<PanServer, Member, Task> act)
    {
        await using var second = await fixture.StartSecondNodeAsync();
        var uids = members.Select(m => m.Uid).ToList();
        Events.FailNext(1000);
        try
        {
            for (var i = 0; i < members.Count; i++)
            {
                await act(i % 2 == 0 ? Server : second, members[i]);
            }

            await Eventually.HoldsAsync(async () => await RowsOfAsync(uids) is { Count: 8 } rows
                && rows.All(r => r is { State: OutboxState.Pending, ClaimedUntil: null } && r.NextAttempt > Server.Clock.GetUtcNow())
                && AppEventsFixture.SubscribedApps.All(a => rows.Any(r => r.AppId == a && r is { Attempts: 1, LastError: not null })));
        }
        finally
        {
            Events.Recover();
        }

        var failed = (await RowsOfAsync(uids)).Where(r => r.Attempts == 1).Select(r => r.Id).ToHashSet();
        Server.Clock.Advance(TimeSpan.FromMinutes(2));
        await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() =>
            (i % 2 == 0 ? Server : second).Services.GetRequiredService<AppEventSender>().SendDueAsync(CancellationToken.None))));

        await Eventually.HoldsAsync(async () => (await RowsOfAsync(uids)).All(r => r.State == OutboxState.Sent));
        Assert.All(await RowsOfAsync(uids), r => Assert.Equal(failed.Contains(r.Id) ? 2 : 1, r.Attempts));
        foreach (var member in members)
        {
            var deliveries = Events.Containing(member.ObjectId.ToString("D"));
            Assert.Equal(AppEventsFixture.SubscribedApps.Order(), deliveries.Select(d => d.AppId).Order());
            Assert.All(deliveries, d => VerifySignature(d, fixture.Secrets[d.AppId]));
        }
    }

    /// <summary>
    /// What an app does with a request (README "Events for apps"): HMAC-SHA256 with its secret over the timestamp, a dot
    /// and the raw body, compared with each <c>v1</c> of <c>Pan-Signature</c> (accepted if any matches); the timestamp
    /// is the one signed.
    /// </summary>
    private void VerifySignature(AppEventDelivery delivery, string secret)
    {
        var parts = delivery.Headers["Pan-Signature"].Split(',').Select(p => p.Split('=', 2)).ToList();
        var t = Assert.Single(parts, p => p[0] == "t")[1];
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(t + "." + delivery.Body));
        Assert.True(parts.Any(p => p[0] == "v1" && CryptographicOperations.FixedTimeEquals(expected, Convert.FromHexString(p[1]))), $"the signature of {delivery.AppId}'s event does not verify");
        Assert.Equal(delivery.Headers["Pan-Timestamp"], t);
        Assert.Equal(Server.Clock.GetUtcNow().ToUnixTimeSeconds(), long.Parse(t, CultureInfo.InvariantCulture));
        Assert.StartsWith("application/json", delivery.Headers["Content-Type"], StringComparison.Ordinal);
    }

    /// <summary>Waits for <paramref name="count"/> accepted events about <paramref name="member"/> and checks no more came.</summary>
    private async Task<IReadOnlyList<AppEventDelivery>> EventsOfAsync(Member member, int count)
    {
        var id = member.ObjectId.ToString("D");
        await Eventually.HoldsAsync(() => Events.Containing(id).Count >= count);
        await Task.Delay(300);
        var deliveries = Events.Containing(id);
        Assert.Equal(count, deliveries.Count);
        return deliveries;
    }

    private async Task DeleteAsync(Member member) =>
        await Commands.DeleteMemberAsync(new CmdDeleteMemberRequest
        {
            AppId = "jkforum", PanAccessToken = await TestMembers.AccessTokenAsync(Server, member), DelToken = await DelTokenAsync(member.Uid),
        });

    private async Task<string> DelTokenAsync(long uid)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<TokenService>().IssueVerifyTokenAsync(uid, VerifyPurposes.Delete, default)).Token;
    }

    private Task<List<AppEventOutboxEntry>> RowsAsync(long uid) => RowsOfAsync([uid]);

    private Task<List<AppEventOutboxEntry>> RowsOfAsync(List<long> uids) =>
        TestMembers.WithDbAsync(Server, db => db.Set<AppEventOutboxEntry>().AsNoTracking().Where(e => uids.Contains(e.Uid)).ToListAsync());

    private Task<List<AuditEntry>> AuditAsync(string target) =>
        TestMembers.WithDbAsync(Server, db => db.Set<AuditEntry>().AsNoTracking().Where(e => e.Target == target).OrderBy(e => e.Id).ToListAsync());

    private static byte[] Base64UrlDecode(string text) => System.Buffers.Text.Base64Url.DecodeFromChars(text);
}

public sealed class AppEventsBehaviour_Sqlite(SqliteAppEventsFixture f) : AppEventsBehaviour<SqliteAppEventsFixture>(f);

public sealed class AppEventsBehaviour_Postgres(PostgresAppEventsFixture f) : AppEventsBehaviour<PostgresAppEventsFixture>(f);
