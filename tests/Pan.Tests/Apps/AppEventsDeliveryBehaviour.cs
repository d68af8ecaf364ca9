using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.AppEvents;
using Pan.Data.Members;
using Pan.Data.Outbox;
using Pan.General.Member.Dangerous;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Apps;

/// <summary>
/// How the event sender treats an app's endpoint that misbehaves: a redirect, an answer that never comes, a body that
/// never ends, a URL carrying a token in its query; that one such app does not hold up the others' events, and that a
/// dead endpoint gets one request per round.
/// </summary>
public abstract class AppEventsDeliveryBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : AppEventsFixture
{
    private PanServer Server => fixture.Server;

    private AppEventInbox Events => fixture.Events;

    [Fact]
    public async Task AnEndpointAnsweringARedirect_IsNotFollowed_AndTheEventWaitsForItsRetry()
    {
        const string App = "jcontrol";
        Assert.Equal(0, (await fixture.CliAsync("apps", "events", App, "--url", Events.UrlOf(App))).ExitCode);
        Events.AnswerFor(App, AppEventAnswer.Redirect);
        try
        {
            var member = await TestMembers.CreateAsync(Server);
            await DeleteAsync(member);

            await Eventually.HoldsAsync(async () => await RowOfAsync(member.Uid, App) is { State: OutboxState.Pending, Attempts: 1, ClaimedUntil: null, LastError: not null });
            Assert.Equal("the app's endpoint answered HTTP 307", (await RowOfAsync(member.Uid, App))!.LastError);
            Assert.Equal(0, Events.RequestsOf(App + "-redirected"));
            Assert.DoesNotContain(Events.Containing(member.ObjectId.ToString("D")), d => d.AppId.StartsWith(App, StringComparison.Ordinal));
        }
        finally
        {
            Events.AnswerFor(App, AppEventAnswer.Accept);
            Assert.Equal(0, (await fixture.CliAsync("apps", "events", App, "--off")).ExitCode);
        }
    }

    [Fact]
    public async Task AnEndpointWhoseBodyNeverEnds_HasTheEventDelivered_WithoutWaitingForTheBody()
    {
        const string App = "jktank";
        Assert.Equal(0, (await fixture.CliAsync("apps", "events", App, "--url", Events.UrlOf(App))).ExitCode);
        Events.AnswerFor(App, AppEventAnswer.EndlessBody);
        try
        {
            var member = await TestMembers.CreateAsync(Server);
            await DeleteAsync(member);

            await Eventually.HoldsAsync(async () => await RowOfAsync(member.Uid, App) is { State: not OutboxState.Pending } or { LastError: not null });
            Assert.Equal((OutboxState.Sent, 1, (string?)null), (await RowOfAsync(member.Uid, App)) is { } row ? (row.State, row.Attempts, row.LastError) : default);
        }
        finally
        {
            Events.AnswerFor(App, AppEventAnswer.Accept);
            Assert.Equal(0, (await fixture.CliAsync("apps", "events", App, "--off")).ExitCode);
        }
    }

    /// <summary>
    /// An app whose endpoint takes every request and never answers: its events wait for the time limit one after the
    /// other, while the other apps' events about the same members leave at once, not behind them.
    /// </summary>
    [Fact]
    public async Task AnEndpointThatNeverAnswers_DoesNotHoldUpTheOtherAppsEvents()
    {
        // Why avplus: its events are queued first (apps in order of their ids), ahead of the others of each deletion.
        const string App = "avplus";
        Assert.Equal(0, (await fixture.CliAsync("apps", "events", App, "--url", Events.UrlOf(App))).ExitCode);
        Events.AnswerFor(App, AppEventAnswer.Hang);
        var members = new List<Member>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                members.Add(await TestMembers.CreateAsync(Server));
            }

            foreach (var member in members)
            {
                await DeleteAsync(member);
            }

            await Eventually.HoldsAsync(() => members.All(m => Events.Containing(m.ObjectId.ToString("D")).Count == AppEventsFixture.SubscribedApps.Length));
            // Each hanging request lasts Pan:AppEvents:TimeoutSeconds (3 s here): the others came before the third.
            Assert.InRange(Events.RequestsOf(App), 1, 2);
        }
        finally
        {
            Events.AnswerFor(App, AppEventAnswer.Accept);
            Events.ReleaseHangs();
            Assert.Equal(0, (await fixture.CliAsync("apps", "events", App, "--off")).ExitCode);
        }
    }

    /// <summary>
    /// An app whose endpoint takes every request and never answers gets one request per round: once an event of it has
    /// timed out, its other due events wait for that event's next attempt without being tried — no attempt counted, no
    /// error recorded, their give-up time unchanged — and when the endpoint answers again each is delivered, the waiting
    /// ones at their first attempt.
    /// </summary>
    [Fact]
    public async Task AnEndpointThatNeverAnswers_GetsOneRequestPerRound_AndItsOtherEventsWaitUntried()
    {
        const string App = "jkface";
        Assert.Equal(0, (await fixture.CliAsync("apps", "events", App, "--url", Events.UrlOf(App))).ExitCode);
        Events.AnswerFor(App, AppEventAnswer.Hang);
        var members = new List<Member>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                members.Add(await TestMembers.CreateAsync(Server));
            }

            foreach (var member in members)
            {
                await DeleteAsync(member);
            }

            var uids = members.Select(m => m.Uid).ToList();
            var queued = await RowsOfAsync(uids, App);
            Assert.Equal(3, queued.Count);

            // The first request times out after 3 s; a lane trying the next event would send it at once.
            await Eventually.HoldsAsync(async () => (await RowsOfAsync(uids, App)).Any(r => r is { LastError: not null, ClaimedUntil: null }));
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Equal(1, Events.RequestsOf(App));
            var afterFirst = await RowsOfAsync(uids, App);
            var probe = Assert.Single(afterFirst, r => r.LastError is not null);
            Assert.Equal(1, probe.Attempts);
            Assert.All(afterFirst.Where(r => r.Id != probe.Id), r =>
                Assert.Equal((OutboxState.Pending, 0, (string?)null, (DateTimeOffset?)null), (r.State, r.Attempts, r.LastError, r.ClaimedUntil)));
            Assert.All(afterFirst, r => Assert.Equal(queued.Single(q => q.Id == r.Id).Expires, r.Expires));

            // The next round: one request again, the others still untried.
            Server.Clock.Advance(TimeSpan.FromMinutes(2));
            await Eventually.HoldsAsync(async () => (await RowsOfAsync(uids, App)).Sum(r => r.Attempts) == 2
                && (await RowsOfAsync(uids, App)).All(r => r.ClaimedUntil is null));
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Equal(2, Events.RequestsOf(App));
            Assert.Equal(2, (await RowsOfAsync(uids, App)).Count(r => r.Attempts == 0));

            // The endpoint answers again: every event is delivered, the ones that waited at their first attempt.
            Events.AnswerFor(App, AppEventAnswer.Accept);
            Server.Clock.Advance(TimeSpan.FromMinutes(2));
            await Eventually.HoldsAsync(async () => (await RowsOfAsync(uids, App)).All(r => r.State == OutboxState.Sent));
            Assert.Equal([1, 1, 3], (await RowsOfAsync(uids, App)).Select(r => r.Attempts).Order());
            Assert.All(members, m => Assert.Contains(Events.Containing(m.ObjectId.ToString("D")), d => d.AppId == App));
        }
        finally
        {
            Events.AnswerFor(App, AppEventAnswer.Accept);
            Events.ReleaseHangs();
            Assert.Equal(0, (await fixture.CliAsync("apps", "events", App, "--off")).ExitCode);
        }
    }

    /// <summary>
    /// A URL's query may carry the app's token: no log line and no row ever holds it, whether the endpoint accepts the
    /// event, refuses it or cannot be reached.
    /// </summary>
    [Fact]
    public async Task AnEventUrlsQuery_NeverReachesALogLineOrARow()
    {
        const string App = "shop24h";
        const string Token = "q7TokenInTheQuery";
        var url = Events.UrlOf(App) + "?token=" + Token;
        Assert.Equal(0, (await fixture.CliAsync("apps", "events", App, "--url", url)).ExitCode);
        var member = await TestMembers.CreateAsync(Server);
        Events.FailNext(3);
        try
        {
            await DeleteAsync(member);
            await Eventually.HoldsAsync(async () => await RowOfAsync(member.Uid, App) is { Attempts: 1, ClaimedUntil: null, LastError: not null });

            // Now an endpoint nothing listens on.
            Assert.Equal(0, (await fixture.CliAsync("apps", "events", App, "--url", "http://127.0.0.1:9/events?token=" + Token)).ExitCode);
            Server.Clock.Advance(TimeSpan.FromMinutes(2));
            await Eventually.HoldsAsync(async () => await RowOfAsync(member.Uid, App) is { Attempts: 2, ClaimedUntil: null, LastError: not null });

            Assert.Equal(0, (await fixture.CliAsync("apps", "events", App, "--url", url)).ExitCode);
            Server.Clock.Advance(TimeSpan.FromMinutes(2));
            await Eventually.HoldsAsync(async () => await RowOfAsync(member.Uid, App) is { State: OutboxState.Sent });
        }
        finally
        {
            Events.Recover();
            Assert.Equal(0, (await fixture.CliAsync("apps", "events", App, "--off")).ExitCode);
        }

        var uid = member.Uid.ToString(CultureInfo.InvariantCulture);
        Assert.Contains(fixture.Logs.Lines, l => l.Contains("Delivered member.deleted event", StringComparison.Ordinal) && l.Contains(uid, StringComparison.Ordinal));
        Assert.Contains(fixture.Logs.Lines, l => l.Contains("could not be reached", StringComparison.Ordinal) && l.Contains(uid, StringComparison.Ordinal));
        Assert.All(fixture.Logs.Lines, l => Assert.DoesNotContain(Token, l, StringComparison.Ordinal));
        Assert.DoesNotContain(Token, (await RowOfAsync(member.Uid, App))!.LastError ?? string.Empty, StringComparison.Ordinal);
    }

    private async Task DeleteAsync(Member member)
    {
        string delToken;
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            delToken = (await scope.ServiceProvider.GetRequiredService<TokenService>().IssueVerifyTokenAsync(member.Uid, VerifyPurposes.Delete, default)).Token;
        }

        await new Command.CommandClient(Server.Grpc).DeleteMemberAsync(new CmdDeleteMemberRequest
        {
            AppId = "jkforum", PanAccessToken = await TestMembers.AccessTokenAsync(Server, member), DelToken = delToken,
        });
    }

    private Task<List<AppEventOutboxEntry>> RowsOfAsync(List<long> uids, string appId) =>
        TestMembers.WithDbAsync(Server, db => db.Set<AppEventOutboxEntry>().AsNoTracking().Where(e => uids.Contains(e.Uid) && e.AppId == appId).OrderBy(e => e.Id).ToListAsync());

    private Task<AppEventOutboxEntry?> RowOfAsync(long uid, string appId) =>
        TestMembers.WithDbAsync(Server, db => db.Set<AppEventOutboxEntry>().AsNoTracking().SingleOrDefaultAsync(e => e.Uid == uid && e.AppId == appId));
}

/// <summary>A server of <see cref="AppEventsFixture"/> whose event requests time out after 3 s, logging at every level.</summary>
public abstract class AppEventsDeliveryFixture : AppEventsFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Pan:AppEvents:TimeoutSeconds"] = "3",
        ["Logging:LogLevel:Default"] = "Trace",
    };
}

public sealed class SqliteAppEventsDeliveryFixture : AppEventsDeliveryFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresAppEventsDeliveryFixture : AppEventsDeliveryFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}

public sealed class AppEventsDeliveryBehaviour_Sqlite(SqliteAppEventsDeliveryFixture f) : AppEventsDeliveryBehaviour<SqliteAppEventsDeliveryFixture>(f);

public sealed class AppEventsDeliveryBehaviour_Postgres(PostgresAppEventsDeliveryFixture f) : AppEventsDeliveryBehaviour<PostgresAppEventsDeliveryFixture>(f);
