using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pan.Data.Tokens;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Tokens;

/// <summary>TokenService itself: the auth token's shape, what makes a token invalid, verify tokens and revocation.</summary>
public abstract class TokenServiceBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ServerFixture, IIsolatedServers
{
    private PanServer Server => fixture.Server;

    [Fact]
    public async Task AuthToken_IsHs512JwtWithKid_AndCarriesTheOriginalClaimsPlusSessionAndJti()
    {
        var member = await TestMembers.CreateAsync(Server);
        var token = await TestMembers.AuthTokenAsync(Server, member);

        var parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]));
        Assert.Equal("HS512", header.RootElement.GetProperty("alg").GetString());
        Assert.Equal("JWT", header.RootElement.GetProperty("typ").GetString());
        Assert.False(string.IsNullOrEmpty(header.RootElement.GetProperty("kid").GetString()));
        using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
        var claims = payload.RootElement;
        Assert.Equal(member.Uid, claims.GetProperty("uid").GetInt64());
        Assert.Equal(member.ObjectId.ToString("D"), claims.GetProperty("object_id").GetString());
        Assert.Equal(AuthMethods.Phone, claims.GetProperty("auth_method").GetString());
        Assert.Equal((Server.Clock.GetUtcNow() + TimeSpan.FromDays(30)).ToUnixTimeSeconds(), claims.GetProperty("expire").GetInt64());
        Assert.True(claims.GetProperty("sid").GetInt64() > 0);
        Assert.True(claims.GetProperty("jti").GetString()!.Length >= 16);
    }

    [Fact]
    public async Task AuthToken_Validates_ToItsMemberAccountAndSession()
    {
        var member = await TestMembers.CreateAsync(Server);
        var token = await TestMembers.AuthTokenAsync(Server, member);

        var claims = await UseTokensAsync(Server, t => t.ValidateAuthTokenAsync(token, default));

        Assert.NotNull(claims);
        Assert.Equal((member.Uid, member.ObjectId, member.AccountId, AuthMethods.Phone), (claims.Uid, claims.ObjectId, claims.AccountId, claims.AuthMethod));
    }

    [Fact]
    public async Task AuthToken_TamperedForgedOrMalformed_IsInvalid()
    {
        var member = await TestMembers.CreateAsync(Server);
        var token = await TestMembers.AuthTokenAsync(Server, member);
        var parts = token.Split('.');
        var header = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[0]));
        var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1]));
        var otherUid = payload.Replace($"\"uid\":{member.Uid}", $"\"uid\":{member.Uid + 1}", StringComparison.Ordinal);
        var kid = JsonDocument.Parse(header).RootElement.GetProperty("kid").GetString()!;
        var realKey = await TestMembers.WithDbAsync(Server, db => db.Set<SigningKey>().Where(k => k.Kid == kid).Select(k => k.Secret).SingleAsync());
        Assert.Equal(token, Sign(header, payload, realKey)); // the forger below signs exactly as the server does

        string[] bad =
        [
            "",
            "not-a-jwt",
            $"{parts[0]}.{B64(otherUid)}.{parts[2]}",
            $"{parts[0]}.{parts[1]}.{FlipLast(parts[2])}",
            $"{parts[0]}.{parts[1]}.",
            $"{B64("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"" + kid + "\"}")}.{parts[1]}.",
            Sign(header, payload, RandomNumberGenerator.GetBytes(64)),
            Sign(header.Replace(kid, "unknown-kid", StringComparison.Ordinal), payload, RandomNumberGenerator.GetBytes(64)),
            token + token,
            $"{B64("{\"alg\":\"HS512\",\"typ\":\"JWT\",\"kid\":42}")}.{parts[1]}.{parts[2]}",
            $"{B64("[1,2]")}.{parts[1]}.{parts[2]}",
            Sign(header, payload.Replace($"\"uid\":{member.Uid}", $"\"uid\":\"{member.Uid}x\"", StringComparison.Ordinal), RandomNumberGenerator.GetBytes(64)),
            $"{parts[0]}.{B64("{\"uid\":\"x\"}")}.{parts[2]}",
            // Correctly signed, but claims of the wrong type or missing.
            Sign(header, payload.Replace($"\"uid\":{member.Uid}", $"\"uid\":\"{member.Uid}x\"", StringComparison.Ordinal), realKey),
            Sign(header, payload.Replace("\"sid\"", "\"session\"", StringComparison.Ordinal), realKey),
            Sign(header, payload.Replace(member.ObjectId.ToString("D"), "not-a-uuid", StringComparison.Ordinal), realKey),
            Sign(header, "[]", realKey),
            Sign(header.Replace("HS512", "HS256", StringComparison.Ordinal), payload, realKey),
        ];
        foreach (var candidate in bad)
        {
            var check = await UseTokensAsync(Server, t => t.CheckAuthTokenAsync(candidate, default));
            Assert.Equal(AuthTokenStatus.Invalid, check.Status);
        }
    }

    [Fact]
    public async Task AuthToken_PastExpire_IsExpired_NotInvalid()
    {
        await using var node = await fixture.StartIsolatedAsync();
        var member = await TestMembers.CreateAsync(node.Server);
        var token = await TestMembers.AuthTokenAsync(node.Server, member);

        node.Server.Clock.Advance(TimeSpan.FromDays(30) - TimeSpan.FromSeconds(1));
        Assert.Equal(AuthTokenStatus.Valid, (await UseTokensAsync(node.Server, t => t.CheckAuthTokenAsync(token, default))).Status);
        node.Server.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(AuthTokenStatus.Expired, (await UseTokensAsync(node.Server, t => t.CheckAuthTokenAsync(token, default))).Status);
    }

    [Fact]
    public async Task VerifyToken_TenParallelConsumers_ExactlyOneWins()
    {
        var member = await TestMembers.CreateAsync(Server);
        var token = (await UseTokensAsync(Server, t => t.IssueVerifyTokenAsync(member.Uid, VerifyPurposes.Delete, default))).Token;

        using var start = new ManualResetEventSlim();
        var consumers = Enumerable.Range(0, 10).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            return await UseTokensAsync(Server, t => t.ConsumeVerifyTokenAsync(token, member.Uid, VerifyPurposes.Delete, default));
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(consumers);

        Assert.Equal(1, results.Count(won => won));
    }

    [Fact]
    public async Task VerifyToken_IsBoundToMemberAndPurpose_AndSingleUse()
    {
        var member = await TestMembers.CreateAsync(Server);
        var other = await TestMembers.CreateAsync(Server);
        var token = (await UseTokensAsync(Server, t => t.IssueVerifyTokenAsync(member.Uid, VerifyPurposes.UpdateCredential, default))).Token;

        Assert.False(await Consume(token, other.Uid, VerifyPurposes.UpdateCredential));
        Assert.False(await Consume(token, member.Uid, VerifyPurposes.Delete));
        Assert.False(await Consume(token[..^1] + (token[^1] == 'A' ? 'B' : 'A'), member.Uid, VerifyPurposes.UpdateCredential));
        Assert.True(await Consume(token, member.Uid, VerifyPurposes.UpdateCredential));
        Assert.False(await Consume(token, member.Uid, VerifyPurposes.UpdateCredential));
    }

    [Fact]
    public async Task VerifyToken_AfterItsMinutes_IsRefused()
    {
        var member = await TestMembers.CreateAsync(Server);
        var token = (await UseTokensAsync(Server, t => t.IssueVerifyTokenAsync(member.Uid, VerifyPurposes.SwitchMember, default))).Token;

        Server.Clock.Advance(TimeSpan.FromMinutes(5));

        Assert.False(await Consume(token, member.Uid, VerifyPurposes.SwitchMember));
    }

    [Fact]
    public async Task Tokens_AreStoredHashed_NeverInClear()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var verify = (await UseTokensAsync(Server, t => t.IssueVerifyTokenAsync(member.Uid, VerifyPurposes.Delete, default))).Token;

        var stored = await TestMembers.WithDbAsync(Server, async db => (
            await db.Set<StoredAccessToken>().Where(t => t.Uid == member.Uid).Select(t => t.Hash).ToListAsync(),
            await db.Set<StoredVerifyToken>().Where(t => t.Uid == member.Uid).Select(t => t.Hash).ToListAsync()));

        Assert.Equal(SHA256.HashData(Encoding.ASCII.GetBytes(access)), Assert.Single(stored.Item1));
        Assert.Equal(SHA256.HashData(Encoding.ASCII.GetBytes(verify)), Assert.Single(stored.Item2));
        Assert.Equal(43, access.Length);
    }

    [Fact]
    public async Task RevokeMember_KillsItsSessionsAndItsAccessTokensFromAnySession_ButNotItsSiblings()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var siblingAuth = await TestMembers.AuthTokenAsync(Server, sibling);
        var ownerViaSibling = await TestMembers.AccessTokenAsync(Server, siblingAuth, owner);
        var siblingAccess = await TestMembers.AccessTokenAsync(Server, siblingAuth, sibling);
        var ownerAuth = await TestMembers.AuthTokenAsync(Server, owner);

        await UseTokensAsync(Server, async t => { await t.RevokeMemberAsync(owner.Uid, default); return true; });

        Assert.Null(await UseTokensAsync(Server, t => t.ValidateAccessTokenAsync(ownerViaSibling, default)));
        Assert.Null(await UseTokensAsync(Server, t => t.ValidateAuthTokenAsync(ownerAuth, default)));
        Assert.NotNull(await UseTokensAsync(Server, t => t.ValidateAccessTokenAsync(siblingAccess, default)));
        Assert.NotNull(await UseTokensAsync(Server, t => t.ValidateAuthTokenAsync(siblingAuth, default)));
        // The sibling's session may still issue a fresh token for the owner (the phone holder controls its members).
        Assert.NotNull(await UseTokensAsync(Server, async t => await t.ValidateAccessTokenAsync(
            await TestMembers.AccessTokenAsync(Server, siblingAuth, owner), default)));
    }

    [Fact]
    public async Task RevokeAccount_KillsEverySessionAndAccessTokenUnderThePhone()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var stranger = await TestMembers.CreateAsync(Server);
        var auths = new[] { await TestMembers.AuthTokenAsync(Server, owner), await TestMembers.AuthTokenAsync(Server, sibling) };
        var accesses = new[] { await TestMembers.AccessTokenAsync(Server, owner), await TestMembers.AccessTokenAsync(Server, sibling, "shop24h") };
        var strangerAccess = await TestMembers.AccessTokenAsync(Server, stranger);

        await UseTokensAsync(Server, async t => { await t.RevokeAccountAsync(owner.AccountId, default); return true; });

        foreach (var auth in auths)
        {
            Assert.Null(await UseTokensAsync(Server, t => t.ValidateAuthTokenAsync(auth, default)));
        }

        foreach (var access in accesses)
        {
            Assert.Null(await UseTokensAsync(Server, t => t.ValidateAccessTokenAsync(access, default)));
        }

        Assert.NotNull(await UseTokensAsync(Server, t => t.ValidateAccessTokenAsync(strangerAccess, default)));
    }

    [Fact]
    public async Task TwoNodes_ARevocationOnOne_IsRejectedByTheOther()
    {
        await using var second = await fixture.StartNodeAsync();
        var member = await TestMembers.CreateAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, member);
        var access = await TestMembers.AccessTokenAsync(Server, auth, member);
        var claims = await UseTokensAsync(second, t => t.ValidateAuthTokenAsync(auth, default));
        Assert.NotNull(claims);
        Assert.NotNull(await UseTokensAsync(second, t => t.ValidateAccessTokenAsync(access, default)));

        await UseTokensAsync(second, async t => { await t.RevokeSessionAsync(claims.SessionId, default); return true; });

        Assert.Null(await UseTokensAsync(Server, t => t.ValidateAuthTokenAsync(auth, default)));
        Assert.Null(await UseTokensAsync(Server, t => t.ValidateAccessTokenAsync(access, default)));
        Assert.Null(await UseTokensAsync(second, t => t.ValidateAccessTokenAsync(access, default)));
    }

    [Fact]
    public async Task KeyRotation_OldTokensKeepValidating_UntilTheyExpire_AndOtherNodesLearnTheNewKey()
    {
        var settings = new Dictionary<string, string?> { ["Pan:Tokens:KeyRotationDays"] = "10", ["Pan:Tokens:AuthTokenDays"] = "30" };
        await using var node = await fixture.StartIsolatedAsync(settings);
        await using var other = await node.StartNodeAsync(settings);
        var member = await TestMembers.CreateAsync(node.Server);
        var before = await TestMembers.AuthTokenAsync(node.Server, member);

        node.Server.Clock.Advance(TimeSpan.FromDays(11));
        Assert.NotNull(await UseTokensAsync(other, t => t.ValidateAuthTokenAsync(before, default))); // `other` reloads its keys here
        var after = await TestMembers.AuthTokenAsync(node.Server, member);

        Assert.NotEqual(Kid(before), Kid(after));
        // `other` loaded its keys a moment ago and must learn the new kid from the database on first sight.
        Assert.NotNull(await UseTokensAsync(other, t => t.ValidateAuthTokenAsync(after, default)));
        Assert.NotNull(await UseTokensAsync(node.Server, t => t.ValidateAuthTokenAsync(before, default)));
        var keys = await TestMembers.WithDbAsync(node.Server, db => db.Set<SigningKey>().OrderBy(k => k.Generation).ToListAsync());
        Assert.Equal([1L, 2L], keys.Select(k => k.Generation));
        Assert.NotNull(keys[0].Retires);
        Assert.Null(keys[1].Retires);

        node.Server.Clock.Advance(TimeSpan.FromDays(19)); // 30 days after `before` was issued
        Assert.Equal(AuthTokenStatus.Expired, (await UseTokensAsync(node.Server, t => t.CheckAuthTokenAsync(before, default))).Status);
        Assert.Equal(AuthTokenStatus.Valid, (await UseTokensAsync(other, t => t.CheckAuthTokenAsync(after, default))).Status);

        node.Server.Clock.Advance(TimeSpan.FromDays(12)); // past the old key's retirement: it verifies nothing any more
        Assert.Equal(AuthTokenStatus.Invalid, (await UseTokensAsync(node.Server, t => t.CheckAuthTokenAsync(before, default))).Status);
    }

    [Fact]
    public async Task TwoNodesStartingAtOnce_AgreeOnOneSigningKey()
    {
        await using var node = await fixture.StartIsolatedAsync();
        await using var other = await node.StartNodeAsync();
        var member = await TestMembers.CreateAsync(node.Server);

        // Neither node has a key yet: both race to create generation 1.
        var tokens = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => TestMembers.AuthTokenAsync(i % 2 == 0 ? node.Server : other, member)));

        foreach (var token in tokens)
        {
            Assert.NotNull(await UseTokensAsync(node.Server, t => t.ValidateAuthTokenAsync(token, default)));
            Assert.NotNull(await UseTokensAsync(other, t => t.ValidateAuthTokenAsync(token, default)));
        }

        Assert.Single(tokens.Select(Kid).Distinct());
        Assert.Equal(1, await TestMembers.WithDbAsync(node.Server, db => db.Set<SigningKey>().CountAsync()));
    }

    [Fact]
    public async Task Janitor_PurgesExpiredTokensAndSessions_AndKeepsLiveOnes()
    {
        await using var node = await fixture.StartIsolatedAsync();
        var member = await TestMembers.CreateAsync(node.Server);
        var oldAccess = await TestMembers.AccessTokenAsync(node.Server, member);
        await UseTokensAsync(node.Server, t => t.IssueVerifyTokenAsync(member.Uid, VerifyPurposes.Delete, default));
        node.Server.Clock.Advance(TimeSpan.FromDays(31));
        var liveAccess = await TestMembers.AccessTokenAsync(node.Server, member);

        await node.Server.Services.GetServices<IHostedService>().OfType<TokenJanitor>().Single().SweepOnceAsync(default);

        var left = await TestMembers.WithDbAsync(node.Server, async db => (
            Sessions: await db.Set<AuthSession>().CountAsync(),
            Access: await db.Set<StoredAccessToken>().CountAsync(),
            Verify: await db.Set<StoredVerifyToken>().CountAsync()));
        Assert.Equal((1, 1, 0), left);
        Assert.NotNull(await UseTokensAsync(node.Server, t => t.ValidateAccessTokenAsync(liveAccess, default)));
        Assert.Null(await UseTokensAsync(node.Server, t => t.ValidateAccessTokenAsync(oldAccess, default)));
    }

    private Task<bool> Consume(string token, long uid, string purpose) =>
        UseTokensAsync(Server, t => t.ConsumeVerifyTokenAsync(token, uid, purpose, default));

    private static async Task<T> UseTokensAsync<T>(PanServer server, Func<TokenService, Task<T>> use)
    {
        await using var scope = server.Services.CreateAsyncScope();
        return await use(scope.ServiceProvider.GetRequiredService<TokenService>());
    }

    private static string Kid(string token) =>
        JsonDocument.Parse(Base64Url.DecodeFromChars(token.Split('.')[0])).RootElement.GetProperty("kid").GetString()!;

    private static string B64(string json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));

    private static string Sign(string header, string payload, byte[] key)
    {
        var input = $"{B64(header)}.{B64(payload)}";
        return input + "." + Base64Url.EncodeToString(HMACSHA512.HashData(key, Encoding.ASCII.GetBytes(input)));
    }

    private static string FlipLast(string signature) => signature[..^2] + (signature[^2] == 'A' ? 'B' : 'A') + signature[^1];
}

public sealed class TokenServiceBehaviour_Sqlite(TokensSqliteFixture f) : TokenServiceBehaviour<TokensSqliteFixture>(f);

public sealed class TokenServiceBehaviour_Postgres(TokensPostgresFixture f) : TokenServiceBehaviour<TokensPostgresFixture>(f);
