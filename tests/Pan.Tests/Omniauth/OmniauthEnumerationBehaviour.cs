using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Omniauth;

/// <summary>
/// through_omniauth as an account-existence oracle (SECURITY 15): a provider user bound to no member answers 4028 when
/// its email is a member's verified address and is signed up otherwise, so the calls of such users are limited per
/// client address and hour; a bound user's sign-in never is. Every test runs on its own nodes with its own clock hour,
/// so the shared per-address windows of one test do not reach another's (the first test moves on to hour 2).
/// </summary>
public abstract class OmniauthEnumerationBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OmniauthFixture
{
    private const string Limit = "Pan:Omniauth:UnboundSignInsPerIpPerHour";
    private const string TooMany = """{"code":429,"message":"Too many requests"}""";
    private const string Taken = """{"code":4028,"message":"Email already taken, password required"}""";

    [Fact]
    public async Task ThroughOmniauth_PastTheHourlyUnboundSignInsOfOneAddress_Is429_AlikeForTakenAndFreeEmails_OnEveryNode()
    {
        var taken = await KnownEmailAsync();
        var clock = Clock(hour: 1);
        await using var a = await NodeAsync(clock, (Limit, "3"));
        await using var b = await NodeAsync(clock, (Limit, "3"));

        var within = new[]
        {
            await SignInAsync(a, SocialUsers.New(taken)),
            await SignInAsync(b, SocialUsers.New()),
            await SignInAsync(a, SocialUsers.New(taken)),
        };
        var free = SocialUsers.New();
        var overTaken = await SignInAsync(b, SocialUsers.New(taken));
        var overFree = await SignInAsync(a, free);

        Assert.Equal([409, 200, 409], within.Select(w => w.Status));
        Assert.Equal(Taken, within[0].Body.GetRawText());
        Assert.Equal((429, TooMany), (overTaken.Status, overTaken.Body.GetRawText()));
        Assert.Equal((429, TooMany), (overFree.Status, overFree.Body.GetRawText()));
        Assert.True(int.Parse(overTaken.Response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.True(overFree.Response.Headers.Contains("Retry-After"));
        Assert.False(await EmailExistedAsync(free.Email!), "a refused call signed its user up");

        clock.Advance(TimeSpan.FromHours(1));
        var nextHour = await SignInAsync(a, SocialUsers.New(taken));
        Assert.Equal((409, Taken), (nextHour.Status, nextHour.Body.GetRawText()));
    }

    [Fact]
    public async Task ThroughOmniauth_ABoundUsersSignIns_AreNeitherLimitedNorCounted()
    {
        var clock = Clock(hour: 5);
        await using var node = await NodeAsync(clock, (Limit, "2"));
        var user = SocialUsers.New();
        var signUp = await SignInAsync(node, user);
        Assert.Equal(200, signUp.Status);
        var uuid = signUp.Body.GetProperty("data").GetProperty("uuid").GetString();

        var signIns = new List<(int Status, JsonElement Body, HttpResponseMessage Response)>();
        for (var i = 0; i < 5; i++)
        {
            signIns.Add(await SignInAsync(node, user));
        }

        var lastUnbound = await SignInAsync(node, SocialUsers.New());
        var overUnbound = await SignInAsync(node, SocialUsers.New());
        var boundPastTheLimit = await SignInAsync(node, user);

        Assert.All(signIns, s => Assert.Equal((200, uuid), (s.Status, s.Body.GetProperty("data").GetProperty("uuid").GetString())));
        Assert.Equal(200, lastUnbound.Status);
        Assert.Equal((429, TooMany), (overUnbound.Status, overUnbound.Body.GetRawText()));
        Assert.Equal((200, uuid), (boundPastTheLimit.Status, boundPastTheLimit.Body.GetProperty("data").GetProperty("uuid").GetString()));
    }

    [Fact]
    public async Task ThroughOmniauth_UnboundSignIns_AreCountedPerClientAddress_AnIpv6AddressByItsSlash64()
    {
        var taken = await KnownEmailAsync();
        await using var node = await NodeAsync(Clock(hour: 8), (Limit, "1"), ("Pan:Network:TrustedProxies:0", "127.0.0.1"));

        var first = await SignInAsync(node, SocialUsers.New(taken), from: "2001:db8:7:1::10");
        var sameSlash64 = await SignInAsync(node, SocialUsers.New(taken), from: "2001:db8:7:1:ffff::20");
        var otherSlash64 = await SignInAsync(node, SocialUsers.New(taken), from: "2001:db8:7:2::10");
        var otherIpv4 = await SignInAsync(node, SocialUsers.New(taken), from: "192.0.2.77");

        Assert.Equal((409, Taken), (first.Status, first.Body.GetRawText()));
        Assert.Equal((429, TooMany), (sameSlash64.Status, sameSlash64.Body.GetRawText()));
        Assert.Equal((409, Taken), (otherSlash64.Status, otherSlash64.Body.GetRawText()));
        Assert.Equal((409, Taken), (otherIpv4.Status, otherIpv4.Body.GetRawText()));
    }

    private static FakeTimeProvider Clock(int hour) => new(new DateTimeOffset(2033, 7, 1, hour, 10, 0, TimeSpan.Zero));

    private Task<PanServer> NodeAsync(FakeTimeProvider clock, params (string Key, string Value)[] changes) =>
        fixture.StartNodeAsync(changes.ToDictionary(c => c.Key, c => (string?)c.Value), clock);

    /// <summary>Signs a new social user up on the fixture's server and returns its (verified) email.</summary>
    private async Task<string> KnownEmailAsync()
    {
        var user = SocialUsers.New();
        Assert.Equal(200, (await SignInAsync(fixture.Server, user)).Status);
        return user.Email!;
    }

    private async Task<bool> EmailExistedAsync(string email)
    {
        var (status, body, _) = await OmniauthFixture.PostAsync(fixture.Server, "email_existed", new Dictionary<string, string?>
        {
            ["client_id"] = OmniauthFixture.Client,
            ["client_secret"] = fixture.Secret,
            ["email"] = email,
        });
        Assert.Equal(200, status);
        return body.GetProperty("data").GetBoolean();
    }

    /// <summary>A through_omniauth call with a Facebook token of <paramref name="user"/>, relayed for <paramref name="from"/> by the loopback proxy when given.</summary>
    private async Task<(int Status, JsonElement Body, HttpResponseMessage Response)> SignInAsync(PanServer on, SocialUser user, string? from = null)
    {
        var login = fixture.Providers.SignIn("facebook", user);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v3/verification/through_omniauth")
        {
            Content = JsonContent.Create(new Dictionary<string, string>
            {
                ["client_id"] = OmniauthFixture.Client,
                ["client_secret"] = fixture.Secret,
                ["provider"] = login.Provider,
                ["omniauth_token"] = login.Token,
            }),
        };
        if (from is not null)
        {
            request.Headers.Add("X-Forwarded-For", from);
        }

        var response = await on.Http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>(), response);
    }
}

public sealed class OmniauthEnumerationBehaviour_Sqlite(SqliteOmniauthFixture f) : OmniauthEnumerationBehaviour<SqliteOmniauthFixture>(f);

public sealed class OmniauthEnumerationBehaviour_Postgres(PostgresOmniauthFixture f) : OmniauthEnumerationBehaviour<PostgresOmniauthFixture>(f);
