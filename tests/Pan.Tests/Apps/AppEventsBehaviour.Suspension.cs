using System.Globalization;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.Members;
using Pan.Data.Outbox;
using Pan.General.Admin;
using Pan.Server.AppEvents;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Apps;

/// <summary>
/// <c>member.suspended</c> and <c>member.restored</c>: a suspension (admin API or <c>members suspend</c>) queues one
/// event per subscribed app in its own transaction, a restore of a suspended member likewise; delivered, signed and
/// retried as <c>member.deleted</c> is.
/// </summary>
public abstract partial class AppEventsBehaviour<TFixture>
    where TFixture : AppEventsFixture
{
    [Fact]
    public async Task SuspendAgainAndRestore_SendEachSubscribedAppSignedEvents_WithTheIdsTheEndAndTheType()
    {
        var token = await fixture.SignInMemberAdminAsync();
        var member = await TestMembers.CreateAsync(Server, m => m.Email = $"e{Guid.NewGuid():N}@example.com");
        var until = Server.Clock.GetUtcNow().AddDays(3);

        await Admin.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = member.Uid, Until = Timestamp.FromDateTimeOffset(until) });
        var suspended = await EventsOfAsync(member, 2);
        AssertSuspensionEvents(suspended, member, "member.suspended", until);

        // Suspending again (now until restored) is a new event with the new end, and a later occurred_at.
        Server.Clock.Advance(TimeSpan.FromSeconds(1));
        await Admin.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = member.Uid });
        var again = (await EventsOfAsync(member, 4)).Except(suspended).ToList();
        AssertSuspensionEvents(again, member, "member.suspended", null);

        Server.Clock.Advance(TimeSpan.FromSeconds(1));
        await Admin.RestoreMemberAsync(new RestoreMemberRequest { AdminToken = token, Uid = member.Uid });
        var restored = (await EventsOfAsync(member, 6)).Except(suspended).Except(again).ToList();
        AssertSuspensionEvents(restored, member, "member.restored", null);

        var rows = await RowsAsync(member.Uid);
        Assert.Equal(
            ["member.restored", "member.restored", "member.suspended", "member.suspended", "member.suspended", "member.suspended"],
            rows.Select(r => r.Kind).Order());
        Assert.All(rows, r => Assert.Equal((OutboxState.Sent, (string?)null, 1), (r.State, r.Payload, r.Attempts)));
    }

    /// <summary>
    /// The operator command line queues the same events, in its own transaction with its audit line (its clock is the
    /// machine's, not the test server's, so its rows are checked rather than delivered here).
    /// </summary>
    [Fact]
    public async Task MembersSuspendAndRestore_OnTheCommandLine_QueueTheEvents()
    {
        var member = await TestMembers.CreateAsync(Server);
        var uid = member.Uid.ToString(CultureInfo.InvariantCulture);

        Assert.Equal(0, (await fixture.CliAsync("members", "suspend", uid, "--for", "2d")).ExitCode);
        Assert.Equal(0, (await fixture.CliAsync("members", "restore", uid)).ExitCode);

        var rows = await RowsAsync(member.Uid);
        Assert.Equal(["member.restored", "member.restored", "member.suspended", "member.suspended"], rows.Select(r => r.Kind).Order());
        Assert.Equal(AppEventsFixture.SubscribedApps.Order(), rows.Where(r => r.Kind == "member.suspended").Select(r => r.AppId).Order());
    }

    /// <summary>Restoring a member that is not suspended (never, or restored already) changes nothing an app knows: no event.</summary>
    [Fact]
    public async Task RestoringAMemberThatIsNotSuspended_QueuesNoEvent()
    {
        var token = await fixture.SignInMemberAdminAsync();
        var never = await TestMembers.CreateAsync(Server);
        var twice = await TestMembers.CreateAsync(Server);
        await Admin.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = twice.Uid });
        await Admin.RestoreMemberAsync(new RestoreMemberRequest { AdminToken = token, Uid = twice.Uid });

        await Admin.RestoreMemberAsync(new RestoreMemberRequest { AdminToken = token, Uid = never.Uid });
        await Admin.RestoreMemberAsync(new RestoreMemberRequest { AdminToken = token, Uid = twice.Uid });
        Assert.Equal(0, (await fixture.CliAsync("members", "restore", never.Uid.ToString(CultureInfo.InvariantCulture))).ExitCode);
        // A suspension that ended by itself (past for the server's clock and the command line's alike): nothing to restore either.
        var lapsed = await TestMembers.CreateAsync(Server);
        await TestMembers.WithDbAsync(Server, db => db.Members.Where(m => m.Uid == lapsed.Uid)
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.SuspendedUntil, new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero))));
        Assert.Equal(0, (await fixture.CliAsync("members", "restore", lapsed.Uid.ToString(CultureInfo.InvariantCulture))).ExitCode);
        await Admin.RestoreMemberAsync(new RestoreMemberRequest { AdminToken = token, Uid = lapsed.Uid });

        Assert.Empty(await RowsAsync(never.Uid));
        Assert.Empty(await RowsAsync(lapsed.Uid));
        Assert.Equal(["member.restored", "member.restored", "member.suspended", "member.suspended"], (await RowsAsync(twice.Uid)).Select(r => r.Kind).Order());
        await EventsOfAsync(twice, 4);
        Assert.Empty(Events.Containing(never.ObjectId.ToString("D")));
    }

    /// <summary>The audit line is the last write of a suspension or a restore: refused, the change and its events roll back together.</summary>
    [Fact]
    public async Task ASuspensionOrRestoreWhoseAuditLineIsRefused_QueuesNoEvent()
    {
        var token = await fixture.SignInMemberAdminAsync();
        var member = await TestMembers.CreateAsync(Server);
        var uid = member.Uid.ToString(CultureInfo.InvariantCulture);
        var success = $"NEW.target = 'uid:{uid}' AND NEW.outcome LIKE 'ok%'";

        await using (await FailureTriggers.FailAsync(Server, fixture.Database, "audit_log", TriggeredWrite.Insert, success))
        {
            await Errors.ExpectAsync(() => Admin.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = member.Uid }).ResponseAsync,
                StatusCode.Internal, "SuspendMemberResponse.Error.InternalError");
            Assert.Equal(1, (await fixture.CliAsync("members", "suspend", uid)).ExitCode);
        }

        Assert.Empty(await RowsAsync(member.Uid));
        Assert.Null(await SuspendedUntilAsync(member.Uid));

        await Admin.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = member.Uid });
        await using (await FailureTriggers.FailAsync(Server, fixture.Database, "audit_log", TriggeredWrite.Insert, success))
        {
            await Errors.ExpectAsync(() => Admin.RestoreMemberAsync(new RestoreMemberRequest { AdminToken = token, Uid = member.Uid }).ResponseAsync,
                StatusCode.Internal, "RestoreMemberResponse.Error.InternalError");
            Assert.Equal(1, (await fixture.CliAsync("members", "restore", uid)).ExitCode);
        }

        Assert.NotNull(await SuspendedUntilAsync(member.Uid));
        Assert.Equal(["member.suspended", "member.suspended"], (await RowsAsync(member.Uid)).Select(r => r.Kind));
        Assert.All(await EventsOfAsync(member, 2), d => Assert.Equal("member.suspended", d.Headers["Pan-Event-Type"]));
    }

    [Fact]
    public async Task TwoNodes_DeliverEachSuspensionEventOnce()
    {
        var token = await fixture.SignInMemberAdminAsync();
        var members = new List<Member>();
        for (var i = 0; i < 4; i++)
        {
            members.Add(await TestMembers.CreateAsync(Server));
        }

        await DeliverOnceThroughTwoNodesAsync(members, (node, member) =>
            new AdminService.AdminServiceClient(node.Grpc).SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = member.Uid }).ResponseAsync);
    }

    /// <summary>
    /// Checks one event per subscribed app of <paramref name="type"/> about <paramref name="member"/>, signed, with the
    /// ids and (for <c>member.suspended</c>) the end, <paramref name="until"/> or null for "until restored", that
    /// occurred now (the server's clock).
    /// </summary>
    private void AssertSuspensionEvents(IReadOnlyList<AppEventDelivery> deliveries, Member member, string type, DateTimeOffset? until)
    {
        Assert.Equal(AppEventsFixture.SubscribedApps.Order(), deliveries.Select(d => d.AppId).Order());
        foreach (var delivery in deliveries)
        {
            VerifySignature(delivery, fixture.Secrets[delivery.AppId]);
            Assert.Equal(type, delivery.Headers["Pan-Event-Type"]);
            using var body = JsonDocument.Parse(delivery.Body);
            var root = body.RootElement;
            Assert.Equal(["id", "type", "occurred_at", "data"], root.EnumerateObject().Select(p => p.Name));
            Assert.Equal(delivery.Headers["Pan-Event-Id"], root.GetProperty("id").GetString());
            Assert.Equal(type, root.GetProperty("type").GetString());
            Assert.Equal(Server.Clock.GetUtcNow(), DateTimeOffset.Parse(root.GetProperty("occurred_at").GetString()!, CultureInfo.InvariantCulture));
            var data = root.GetProperty("data");
            Assert.Equal(member.Uid.ToString(CultureInfo.InvariantCulture), data.GetProperty("uid").GetString());
            Assert.Equal(member.ObjectId.ToString("D"), data.GetProperty("object_id").GetString());
            Assert.Equal(member.HashUid, data.GetProperty("hash_uid").GetString());
            if (type == "member.suspended")
            {
                Assert.Equal(["uid", "object_id", "hash_uid", "suspended_until"], data.EnumerateObject().Select(p => p.Name));
                var end = data.GetProperty("suspended_until");
                if (until is { } expected)
                {
                    Assert.Equal(expected, DateTimeOffset.Parse(end.GetString()!, CultureInfo.InvariantCulture));
                    Assert.EndsWith("Z", end.GetString(), StringComparison.Ordinal);
                }
                else
                {
                    Assert.Equal(JsonValueKind.Null, end.ValueKind);
                }
            }
            else
            {
                Assert.Equal(["uid", "object_id", "hash_uid"], data.EnumerateObject().Select(p => p.Name));
            }

            if (member.Email is { } email)
            {
                Assert.DoesNotContain(email, delivery.Body, StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    private AdminService.AdminServiceClient Admin => new(Server.Grpc);

    private Task<DateTimeOffset?> SuspendedUntilAsync(long uid) =>
        TestMembers.WithDbAsync(Server, db => db.Members.Where(m => m.Uid == uid).Select(m => m.SuspendedUntil).SingleAsync());
}
