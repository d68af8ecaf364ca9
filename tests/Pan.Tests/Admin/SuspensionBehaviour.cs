using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.General.Admin;
using Pan.General.Member;
using Pan.Server.Suspension;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Admin;

/// <summary>
/// SuspendMember and RestoreMember (a Pan extension) and the <c>members suspend|restore|show</c> commands: roles, errors,
/// the audit trail, what a suspension ends, a suspension lifting by itself, and the refusal across nodes.
/// </summary>
public abstract class SuspensionBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : AdminFixture
{
    private AdminService.AdminServiceClient Client => new(fixture.Server.Grpc);

    [Fact]
    public async Task SuspendMember_ByAMemberAdmin_SetsTheEnd_EndsSessionsAndTokens_AndIsAudited()
    {
        var (admin, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);
        var auth = await TestMembers.AuthTokenAsync(fixture.Server, member);
        var access = await TestMembers.AccessTokenAsync(fixture.Server, auth, member);
        var until = fixture.Server.Clock.GetUtcNow().AddDays(3);

        await Client.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = member.Uid, Until = Timestamp.FromDateTimeOffset(until) });

        Assert.Equal(until, await SuspendedUntilAsync(member.Uid));
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var tokens = scope.ServiceProvider.GetRequiredService<TokenService>();
            Assert.Null(await tokens.ValidateAccessTokenAsync(access, default));
            Assert.Null(await tokens.ValidateAuthTokenAsync(auth, default));
        }

        var audit = Assert.Single(await fixture.AuditAsync("admin.suspend-member", $"uid:{member.Uid}"));
        Assert.Equal((admin, "ok"), (audit.Actor, audit.Outcome));
    }

    [Fact]
    public async Task SuspendMember_WithoutAnEnd_StoresTheFarFutureInstant_AndAgainWithAnEnd_ChangesIt()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);

        await Client.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = member.Uid });
        Assert.Equal(MemberSuspensions.Indefinitely, await SuspendedUntilAsync(member.Uid));

        var until = fixture.Server.Clock.GetUtcNow().AddHours(5);
        await Client.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = member.Uid, Until = Timestamp.FromDateTimeOffset(until) });
        Assert.Equal(until, await SuspendedUntilAsync(member.Uid));
        Assert.Equal(2, (await fixture.AuditAsync("admin.suspend-member", $"uid:{member.Uid}")).Count(e => e.Outcome == "ok"));
    }

    [Fact]
    public async Task SuspendMember_WithAnEndInThePastOrTooFarAway_IsInvalidArgumentNamingUntil()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);
        var now = fixture.Server.Clock.GetUtcNow();

        foreach (var until in new[] { now.AddSeconds(-1), now, now.AddYears(101) })
        {
            var ex = await Errors.ExpectAsync(
                () => Client.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = member.Uid, Until = Timestamp.FromDateTimeOffset(until) }).ResponseAsync,
                StatusCode.InvalidArgument, "INVALID_ARGUMENT");
            Assert.Equal("until", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
        }

        Assert.Null(await SuspendedUntilAsync(member.Uid));
    }

    [Fact]
    public async Task SuspendAndRestore_ForAnUnknownOrDeletedMember_AreUserNotFound()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var deleted = await TestMembers.CreateAsync(fixture.Server);
        await TestMembers.UpdateAsync(fixture.Server, deleted.Uid, m => m.Deleted = fixture.Server.Clock.GetUtcNow());

        foreach (var uid in new[] { 987_654_321L, deleted.Uid })
        {
            var suspend = await Errors.ExpectAsync(() => Client.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = uid }).ResponseAsync,
                StatusCode.NotFound, "SuspendMemberResponse.Error.UserNotFound");
            await Errors.ExpectAsync(() => Client.RestoreMemberAsync(new RestoreMemberRequest { AdminToken = token, Uid = uid }).ResponseAsync,
                StatusCode.NotFound, "RestoreMemberResponse.Error.UserNotFound");
            Assert.Equal("1002", suspend.Info().Metadata["code"]);
        }

        Assert.Null(await SuspendedUntilAsync(deleted.Uid));
    }

    [Fact]
    public async Task SuspendAndRestore_BySupportOrWithoutAToken_AreNotAuthorizedAndChangeNothing()
    {
        var (support, supportToken) = await fixture.SignInNewAdminAsync("support");
        var member = await TestMembers.CreateAsync(fixture.Server);
        var access = await TestMembers.AccessTokenAsync(fixture.Server, member);

        await Errors.ExpectAsync(() => Client.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = supportToken, Uid = member.Uid }).ResponseAsync,
            StatusCode.PermissionDenied, "SuspendMemberResponse.Error.NotAuthorized");
        await Errors.ExpectAsync(() => Client.RestoreMemberAsync(new RestoreMemberRequest { AdminToken = supportToken, Uid = member.Uid }).ResponseAsync,
            StatusCode.PermissionDenied, "RestoreMemberResponse.Error.NotAuthorized");
        await Errors.ExpectAsync(() => Client.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = "garbage", Uid = member.Uid }).ResponseAsync,
            StatusCode.Unauthenticated, "SuspendMemberResponse.Error.NotAuthorized");

        Assert.Null(await SuspendedUntilAsync(member.Uid));
        Assert.True(await ValidAsync(fixture.Server, access));
        var audit = await fixture.AuditAsync("admin.suspend-member", $"uid:{member.Uid}");
        Assert.Equal([(support, "denied: needs role member-admin"), ("unknown", "denied: no valid admin token")], audit.Select(e => (e.Actor, e.Outcome)));
        Assert.Equal((support, "denied: needs role member-admin"), (Assert.Single(await fixture.AuditAsync("admin.restore-member", $"uid:{member.Uid}")) is var r ? (r.Actor, r.Outcome) : default));
    }

    [Fact]
    public async Task RestoreMember_LiftsTheSuspension_IsIdempotent_AndIsAudited()
    {
        var (admin, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);
        await Client.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = member.Uid });
        await Assert.ThrowsAsync<MemberSuspendedException>(() => TestMembers.AuthTokenAsync(fixture.Server, member));

        await Client.RestoreMemberAsync(new RestoreMemberRequest { AdminToken = token, Uid = member.Uid });
        await Client.RestoreMemberAsync(new RestoreMemberRequest { AdminToken = token, Uid = member.Uid });

        Assert.Null(await SuspendedUntilAsync(member.Uid));
        var access = await TestMembers.AccessTokenAsync(fixture.Server, member);
        Assert.True(await ValidAsync(fixture.Server, access));
        var audit = await fixture.AuditAsync("admin.restore-member", $"uid:{member.Uid}");
        Assert.Equal([(admin, "ok"), (admin, "ok")], audit.Select(e => (e.Actor, e.Outcome)));
    }

    /// <summary>An auth token of another member of the phone may mint access tokens for any of them, but not for a suspended one.</summary>
    [Fact]
    public async Task AccessToken_ForASuspendedMemberOfThePhone_IsPermissionDeniedMemberSuspended()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var owner = await TestMembers.CreateAsync(fixture.Server);
        var sibling = await TestMembers.AddToPhoneAsync(fixture.Server, owner);
        var ownerAuth = await TestMembers.AuthTokenAsync(fixture.Server, owner);
        var until = fixture.Server.Clock.GetUtcNow().AddDays(2);
        await Client.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = sibling.Uid, Until = Timestamp.FromDateTimeOffset(until) });

        var ex = await Errors.ExpectAsync(() => TestMembers.AccessTokenAsync(fixture.Server, ownerAuth, sibling), StatusCode.PermissionDenied, "MEMBER_SUSPENDED");

        Assert.Equal(("pan", MemberSuspendedException.Rfc3339(until)), (ex.Info().Domain, ex.Info().Metadata["suspended_until"]));
        // The owner is not suspended: its own access token is still given.
        Assert.NotEmpty(await TestMembers.AccessTokenAsync(fixture.Server, ownerAuth, owner));
    }

    [Fact]
    public async Task Suspension_WithAnEnd_LiftsByItselfWhenTheClockPassesIt()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);
        await Client.SuspendMemberAsync(new SuspendMemberRequest
        {
            AdminToken = token, Uid = member.Uid, Until = Timestamp.FromDateTimeOffset(fixture.Server.Clock.GetUtcNow().AddMinutes(30)),
        });
        var refused = await Assert.ThrowsAsync<MemberSuspendedException>(() => TestMembers.AuthTokenAsync(fixture.Server, member));
        Assert.True(refused.HasEnd);

        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(31));

        var access = await TestMembers.AccessTokenAsync(fixture.Server, member);
        Assert.True(await ValidAsync(fixture.Server, access));
    }

    /// <summary>The success line is refused: the suspension must not commit without it, and the tokens stay.</summary>
    [Fact]
    public async Task SuspendMember_WhenItsAuditLineIsRefused_ChangesNothingAndIsInternalError()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);
        var access = await TestMembers.AccessTokenAsync(fixture.Server, member);

        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "audit_log", TriggeredWrite.Insert,
            $"NEW.target = 'uid:{member.Uid}' AND NEW.outcome = 'ok'"))
        {
            var ex = await Errors.ExpectAsync(() => Client.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = member.Uid }).ResponseAsync,
                StatusCode.Internal, "SuspendMemberResponse.Error.InternalError");
            Assert.DoesNotContain(FailureTriggers.Message, ex.Status.Detail, StringComparison.Ordinal);
        }

        Assert.Null(await SuspendedUntilAsync(member.Uid));
        Assert.True(await ValidAsync(fixture.Server, access));
        Assert.Equal(["SuspendMemberResponse.Error.InternalError"], (await fixture.AuditAsync("admin.suspend-member", $"uid:{member.Uid}")).Select(e => e.Outcome));
    }

    /// <summary>
    /// Two nodes on one database: a suspension made on node A ends the member's access token on node B (which had it in
    /// its cache) and node B refuses the member's next sign-in.
    /// </summary>
    [Fact]
    public async Task Suspension_OnOneNode_StopsTheAccessTokenAndTheSignInOnAnother()
    {
        await using var nodeB = await fixture.StartNodeAsync(new Dictionary<string, string?>());
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);
        var access = await TestMembers.AccessTokenAsync(nodeB, member);
        Assert.True(await ValidAsync(nodeB, access));

        await Client.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = member.Uid });

        Assert.False(await ValidAsync(nodeB, access));
        await Assert.ThrowsAsync<MemberSuspendedException>(() => TestMembers.AuthTokenAsync(nodeB, member));
    }

    [Fact]
    public async Task Cli_SuspendShowRestore_ChangeTheMember_AndAuditEachInItsTransaction()
    {
        var member = await TestMembers.CreateAsync(fixture.Server);
        var access = await TestMembers.AccessTokenAsync(fixture.Server, member);

        var suspend = await PanCli.RunAsync(fixture.Database, "members", "suspend", member.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--for", "30d");
        var shown = await PanCli.RunAsync(fixture.Database, "members", "show", member.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.True(suspend.ExitCode == 0, suspend.Error);
        Assert.NotNull(await SuspendedUntilAsync(member.Uid));
        Assert.False(await ValidAsync(fixture.Server, access));
        Assert.Equal(0, shown.ExitCode);
        Assert.Contains($"uid:             {member.Uid}", shown.Output, StringComparison.Ordinal);
        Assert.Contains(member.DisplayName!, shown.Output, StringComparison.Ordinal);
        Assert.Matches(@"suspended until: \d{4}-\d\d-\d\dT", shown.Output);
        var phone = await TestMembers.WithDbAsync(fixture.Server, db => db.Accounts.Where(a => a.Id == member.AccountId).Select(a => a.PhoneE164!).SingleAsync());
        Assert.DoesNotContain(phone, shown.Output, StringComparison.Ordinal);
        Assert.Contains("ending " + phone[^3..], shown.Output, StringComparison.Ordinal);

        var restore = await PanCli.RunAsync(fixture.Database, "members", "restore", member.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, restore.ExitCode);
        Assert.Contains($"Member {member.Uid} is restored", restore.Output, StringComparison.Ordinal);
        Assert.Null(await SuspendedUntilAsync(member.Uid));
        // A second restore finds nothing to lift and says so.
        var again = await PanCli.RunAsync(fixture.Database, "members", "restore", member.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, again.ExitCode);
        Assert.Contains($"Member {member.Uid} was not suspended; nothing changed.", again.Output, StringComparison.Ordinal);
        Assert.Contains("suspended until: no", (await PanCli.RunAsync(fixture.Database, "members", "show", member.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture))).Output, StringComparison.Ordinal);
        Assert.StartsWith("ok: until ", Assert.Single(await fixture.AuditAsync("cli.members.suspend", $"uid:{member.Uid}")).Outcome, StringComparison.Ordinal);
        Assert.Equal(["ok", "ok: not suspended"], (await fixture.AuditAsync("cli.members.restore", $"uid:{member.Uid}")).Select(e => e.Outcome).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Cli_Suspend_WithBadUsageExitsTwo_AndForAnUnknownMemberExitsOne()
    {
        var member = await TestMembers.CreateAsync(fixture.Server);
        var uid = member.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture);

        foreach (var args in new[]
        {
            new[] { "members", "suspend" },
            ["members", "suspend", "x"],
            ["members", "suspend", uid, "--for", "3w"],
            ["members", "suspend", uid, "--until", "2020-01-01T00:00Z"],
            ["members", "suspend", uid, "--until", "tomorrow"],
            ["members", "suspend", uid, "--until", "2099-01-01T00:00Z", "--for", "1d"],
            ["members", "suspend", uid, "--for", "40000d"],
            ["members", "restore", uid, "--for", "1d"],
        })
        {
            var run = await PanCli.RunAsync(fixture.Database, args);
            Assert.True(run.ExitCode == 2, $"{string.Join(' ', args)}: exit {run.ExitCode}");
        }

        Assert.Null(await SuspendedUntilAsync(member.Uid));
        PanCli.AssertRefused(await PanCli.RunAsync(fixture.Database, "members", "suspend", "987654321", "--until", "2099-01-01T00:00Z"), "No live member has uid 987654321");
        PanCli.AssertRefused(await PanCli.RunAsync(fixture.Database, "members", "restore", "987654321"), "No live member has uid 987654321");
        PanCli.AssertRefused(await PanCli.RunAsync(fixture.Database, "members", "show", "987654321"), "No live member has uid 987654321");
    }

    /// <summary>Lengths and instants at the edges of what the command line reads: each is bad usage (exit 2), no stack trace.</summary>
    [Fact]
    public async Task Cli_Suspend_WithALengthOrInstantAtTheEdges_ExitsTwo_WithoutAStackTrace()
    {
        var member = await TestMembers.CreateAsync(fixture.Server);
        var uid = member.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture);

        foreach (var args in new[]
        {
            new[] { "members", "suspend", uid, "--for", "0h" },
            ["members", "suspend", uid, "--for", "99999999d"],
            ["members", "suspend", uid, "--for", "500000000000000000d"],
            ["members", "suspend", uid, "--for", "9223372036854775807h"],
            ["members", "suspend", uid, "--for", "99999999999999999999d"],
            ["members", "suspend", uid, "--for", "-5d"],
            ["members", "suspend", uid, "--until", "9999-12-31T23:59Z"],
            ["members", "suspend", uid, "--until", "0001-01-01T00:00+14:00"],
            ["members", "suspend", uid, "--until", "2099-01-01T00:00+99:00"],
            ["members", "suspend", uid, "--until", "2099-01-01T00:00"],
            ["members", "suspend", "-1"],
            ["members", "suspend", "0"],
            ["members", "suspend", "99999999999999999999"],
        })
        {
            var run = await PanCli.RunCaughtAsync(fixture.Database, args);
            Assert.True(run.ExitCode == 2, $"{string.Join(' ', args)}: exit {run.ExitCode}: {run.Error}");
            Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
        }

        Assert.Null(await SuspendedUntilAsync(member.Uid));
    }

    [Fact]
    public async Task SuspendAndRestore_WithABadUidOrInstant_AreInvalidArgumentNamingTheField()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);

        foreach (var uid in new[] { 0L, -1L, long.MinValue })
        {
            var ex = await Errors.ExpectAsync(() => Client.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = uid }).ResponseAsync,
                StatusCode.InvalidArgument, "INVALID_ARGUMENT");
            Assert.Equal("uid", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
            ex = await Errors.ExpectAsync(() => Client.RestoreMemberAsync(new RestoreMemberRequest { AdminToken = token, Uid = uid }).ResponseAsync,
                StatusCode.InvalidArgument, "INVALID_ARGUMENT");
            Assert.Equal("uid", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
        }

        await Errors.ExpectAsync(() => Client.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = long.MaxValue }).ResponseAsync,
            StatusCode.NotFound, "SuspendMemberResponse.Error.UserNotFound");
        var soon = fixture.Server.Clock.GetUtcNow().AddDays(1).ToUnixTimeSeconds();
        foreach (var until in new[]
        {
            new Timestamp { Seconds = soon, Nanos = -1 }, new Timestamp { Seconds = soon, Nanos = 1_000_000_000 },
            new Timestamp { Seconds = long.MaxValue }, new Timestamp { Seconds = long.MinValue }, new Timestamp { Seconds = 253_402_300_800 },
        })
        {
            var ex = await Errors.ExpectAsync(
                () => Client.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = member.Uid, Until = until }).ResponseAsync,
                StatusCode.InvalidArgument, "INVALID_ARGUMENT");
            Assert.Equal("until", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
        }

        Assert.Null(await SuspendedUntilAsync(member.Uid));
    }

    /// <summary>A suspension racing the member's deletion waits for it (PostgreSQL) and then finds no live member: UserNotFound, not INTERNAL.</summary>
    [Fact]
    public async Task SuspendMember_WhileTheMembersDeletionIsUncommitted_IsUserNotFound_AndWritesNothing()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);
        Task call;
        await using (var deletion = await Pan.Tests.Deletion.UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, member.Uid))
        {
            call = Task.Run(() => Client.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = member.Uid }).ResponseAsync);
            Assert.True(await deletion.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await deletion.CommitAsync();
        }

        await Errors.ExpectAsync(() => call, StatusCode.NotFound, "SuspendMemberResponse.Error.UserNotFound");
        Assert.Null(await SuspendedUntilAsync(member.Uid));
    }

    /// <summary>
    /// A restore or a second suspension racing a suspension waits for it (PostgreSQL) and then acts on what it committed:
    /// the restore lifts it, the second suspension's end replaces it; neither fails.
    /// </summary>
    [Fact]
    public async Task RestoreAndSuspend_WhileASuspensionIsUncommitted_WaitAndThenApplyTheirOwnChange()
    {
        var (_, token) = await fixture.SignInNewAdminAsync("member-admin");
        var member = await TestMembers.CreateAsync(fixture.Server);
        Task call;
        await using (var suspension = await UncommittedSuspension.StartAsync(fixture.Server, fixture.Database, member.Uid))
        {
            call = Task.Run(() => Client.RestoreMemberAsync(new RestoreMemberRequest { AdminToken = token, Uid = member.Uid }).ResponseAsync);
            Assert.True(await suspension.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await suspension.CommitAsync();
        }

        await call;
        Assert.Null(await SuspendedUntilAsync(member.Uid));

        var until = fixture.Server.Clock.GetUtcNow().AddDays(3);
        await using (var suspension = await UncommittedSuspension.StartAsync(fixture.Server, fixture.Database, member.Uid))
        {
            call = Task.Run(() => Client.SuspendMemberAsync(new SuspendMemberRequest { AdminToken = token, Uid = member.Uid, Until = Timestamp.FromDateTimeOffset(until) }).ResponseAsync);
            Assert.True(await suspension.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await suspension.CommitAsync();
        }

        await call;
        Assert.Equal(until.ToUnixTimeMilliseconds(), (await SuspendedUntilAsync(member.Uid))!.Value.ToUnixTimeMilliseconds());
    }

    /// <summary>Whether <paramref name="server"/> takes the access token (through its own cache, as its calls do).</summary>
    private static async Task<bool> ValidAsync(PanServer server, string access)
    {
        await using var scope = server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<TokenService>().ValidateAccessTokenAsync(access, default) is not null;
    }

    private Task<DateTimeOffset?> SuspendedUntilAsync(long uid) =>
        TestMembers.WithDbAsync(fixture.Server, db => db.Members.Where(m => m.Uid == uid).Select(m => m.SuspendedUntil).SingleAsync());
}

public sealed class SuspensionBehaviour_Sqlite(SqliteAdminFixture f) : SuspensionBehaviour<SqliteAdminFixture>(f);

public sealed class SuspensionBehaviour_Postgres(PostgresAdminFixture f) : SuspensionBehaviour<PostgresAdminFixture>(f);
