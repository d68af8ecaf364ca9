using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.AppEvents;
using Pan.Data.Members;
using Pan.General.Member.Dangerous;
using Pan.Server.AppEvents;
using Pan.Server.Keys;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Apps;

/// <summary>
/// A new event signing secret (<c>apps events --rotate-secret</c>) does not cut off an app still holding the old one:
/// for <c>Pan:AppEvents:RotationOverlapHours</c> (24 by default) each event carries a signature by each secret.
/// </summary>
public abstract class AppEventsRotationBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : AppEventsFixture
{
    private PanServer Server => fixture.Server;

    private AppEventInbox Events => fixture.Events;

    [Fact]
    public async Task RotateSecret_KeepsTheOldSecretSigningAlongsideTheNew_ForTheOverlap_ThenErasesIt()
    {
        const string App = "sugar";
        var old = PanCli.Secret(await fixture.CliAsync("apps", "events", App, "--url", Events.UrlOf(App)));

        var rotate = await fixture.CliAsync("apps", "events", App, "--rotate-secret");

        // Why the times come from the row: the CLI runs on the real clock, the server on the test's.
        Assert.Equal(0, rotate.ExitCode);
        var secret = PanCli.Secret(rotate);
        var row = await SubscriptionAsync(App);
        var until = row.PreviousSecretUntil!.Value;
        Assert.Equal(row.Modified.AddHours(24), until);
        Assert.Contains("keeps signing alongside it until " + until.UtcDateTime.ToString("yyyy-MM-dd HH:mm'Z'", System.Globalization.CultureInfo.InvariantCulture), rotate.Output, StringComparison.Ordinal);
        Assert.NotNull(row.PreviousSecret);
        Assert.True(KeyEnvelope.IsEnvelope(row.PreviousSecret));
        Assert.False(row.PreviousSecret.AsSpan().SequenceEqual(row.Secret));
        Assert.DoesNotContain(old, (await fixture.CliAsync("apps", "events", App)).Output, StringComparison.Ordinal);

        // Within the overlap: the new secret's signature first, then the old one's; an app holding either accepts it.
        var during = await DeletedAsync();
        var signatures = SignaturesOf(Assert.Single(Events.Containing(during), d => d.AppId == App));
        Assert.Equal([Sign(secret, signatures.T, signatures.Body), Sign(old, signatures.T, signatures.Body)], signatures.V1);

        // From its end: the new one's only, and the old secret is erased from the row.
        Server.Clock.Advance(until - Server.Clock.GetUtcNow());
        var after = await DeletedAsync();
        signatures = SignaturesOf(Assert.Single(Events.Containing(after), d => d.AppId == App));
        Assert.Equal([Sign(secret, signatures.T, signatures.Body)], signatures.V1);
        await Server.Services.GetRequiredService<AppEventJanitor>().SweepOnceAsync(CancellationToken.None);
        row = await SubscriptionAsync(App);
        Assert.Equal((null, null), (row.PreviousSecret, row.PreviousSecretUntil));
        Assert.Equal(0, (await fixture.CliAsync("apps", "events", App, "--off")).ExitCode);
    }

    /// <summary>A second rotation within the overlap keeps the secret it replaces, not the one before: two secrets sign at most.</summary>
    [Fact]
    public async Task RotateSecret_TwiceWithinTheOverlap_SignsWithTheLastTwoSecretsOnly()
    {
        const string App = "jktank";
        var first = PanCli.Secret(await fixture.CliAsync("apps", "events", App, "--url", Events.UrlOf(App)));
        var second = PanCli.Secret(await fixture.CliAsync("apps", "events", App, "--rotate-secret"));
        var third = PanCli.Secret(await fixture.CliAsync("apps", "events", App, "--rotate-secret"));

        var id = await DeletedAsync();

        var signatures = SignaturesOf(Assert.Single(Events.Containing(id), d => d.AppId == App));
        Assert.Equal([Sign(third, signatures.T, signatures.Body), Sign(second, signatures.T, signatures.Body)], signatures.V1);
        Assert.DoesNotContain(Sign(first, signatures.T, signatures.Body), signatures.V1);
        var row = await SubscriptionAsync(App);
        Assert.Equal(row.Modified.AddHours(24), row.PreviousSecretUntil);
        Assert.Equal(0, (await fixture.CliAsync("apps", "events", App, "--off")).ExitCode);
    }

    private static (string T, string Body, List<string> V1) SignaturesOf(AppEventDelivery delivery)
    {
        var parts = delivery.Headers["Pan-Signature"].Split(',').Select(p => p.Split('=', 2)).ToList();
        Assert.Equal("t", parts[0][0]);
        Assert.All(parts.Skip(1), p => Assert.Equal("v1", p[0]));
        return (parts[0][1], delivery.Body, parts.Skip(1).Select(p => p[1]).ToList());
    }

    private static string Sign(string secret, string t, string body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(t + "." + body)));

    /// <summary>Deletes a new member and waits for its event to every subscribed app; returns its object_id.</summary>
    private async Task<string> DeletedAsync()
    {
        var member = await TestMembers.CreateAsync(Server);
        string delToken;
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            delToken = (await scope.ServiceProvider.GetRequiredService<TokenService>().IssueVerifyTokenAsync(member.Uid, VerifyPurposes.Delete, default)).Token;
        }

        await new Command.CommandClient(Server.Grpc).DeleteMemberAsync(new CmdDeleteMemberRequest
        {
            AppId = "jkforum", PanAccessToken = await TestMembers.AccessTokenAsync(Server, member), DelToken = delToken,
        });
        var id = member.ObjectId.ToString("D");
        await Eventually.HoldsAsync(() => Events.Containing(id).Count == AppEventsFixture.SubscribedApps.Length + 1);
        return id;
    }

    private Task<AppEventSubscription> SubscriptionAsync(string appId) =>
        TestMembers.WithDbAsync(Server, db => db.Set<AppEventSubscription>().AsNoTracking().SingleAsync(s => s.AppId == appId));
}

public sealed class AppEventsRotationBehaviour_Sqlite(SqliteAppEventsFixture f) : AppEventsRotationBehaviour<SqliteAppEventsFixture>(f);

public sealed class AppEventsRotationBehaviour_Postgres(PostgresAppEventsFixture f) : AppEventsRotationBehaviour<PostgresAppEventsFixture>(f);
