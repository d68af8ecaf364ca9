using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.General.Member;
using Pan.Server.DisplayNames;
using Pan.Server.Members;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Members;

/// <summary>
/// Members and tokens for tests, made the way the server makes them: MemberCreator for members, TokenService for auth
/// tokens (the phone sign-in flow is elsewhere), and the AccessToken RPC for access tokens.
/// </summary>
public static class TestMembers
{
    /// <summary>A new phone account with one member (the owner); the phone is a mobile (+886 90… to 98…, never the personal numbers +886 99…).</summary>
    public static async Task<Member> CreateAsync(PanServer server, Action<Member>? configure = null)
    {
        var phone = "+8869" + Random.Shared.NextInt64(0, 90_000_000).ToString("D8", CultureInfo.InvariantCulture);
        return await AddAsync(server, new Account { PhoneE164 = phone, PhoneCountryCode = 886 }, configure, owner: true);
    }

    /// <summary>Another member under the account of <paramref name="sibling"/>.</summary>
    public static async Task<Member> AddToPhoneAsync(PanServer server, Member sibling, Action<Member>? configure = null)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var account = await scope.ServiceProvider.GetRequiredService<PanDbContext>().Accounts.SingleAsync(a => a.Id == sibling.AccountId);
        return await AddAsync(server, account, configure, owner: false, scope);
    }

    /// <summary>An auth token for <paramref name="member"/>, as a sign-in by <paramref name="authMethod"/> (a phone sign-in unless named) issues it.</summary>
    public static async Task<string> AuthTokenAsync(PanServer server, Member member, string authMethod = AuthMethods.Phone)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var issued = await scope.ServiceProvider.GetRequiredService<TokenService>().IssueAuthTokenAsync(member, authMethod, default);
        return issued.Token;
    }

    /// <summary>An access token for <paramref name="member"/> through the AccessToken RPC, from a fresh auth token.</summary>
    public static async Task<string> AccessTokenAsync(PanServer server, Member member, string appId = "jkforum")
    {
        var auth = await AuthTokenAsync(server, member);
        return await AccessTokenAsync(server, auth, member, appId);
    }

    public static async Task<string> AccessTokenAsync(PanServer server, string authToken, Member? member, string appId = "jkforum")
    {
        var client = new MemberServiceV2.MemberServiceV2Client(server.Grpc);
        var response = await client.AccessTokenAsync(new AccessTokenRequest
        {
            AuthToken = authToken,
            ObjectId = member?.ObjectId.ToString("D") ?? string.Empty,
            AppId = appId,
        });
        return response.AccessToken;
    }

    /// <summary>Runs <paramref name="change"/> on the member's row (tracked) and saves it, as another feature would.</summary>
    public static async Task UpdateAsync(PanServer server, long uid, Action<Member> change)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var member = await db.Members.SingleAsync(m => m.Uid == uid);
        change(member);
        await db.SaveChangesAsync();
    }

    public static async Task<T> WithDbAsync<T>(PanServer server, Func<PanDbContext, Task<T>> query)
    {
        await using var scope = server.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<PanDbContext>());
    }

    public static string UniqueName(string prefix = "m") =>
        prefix + Random.Shared.Next(10_000_000, 99_999_999).ToString(CultureInfo.InvariantCulture);

    private static async Task<Member> AddAsync(PanServer server, Account account, Action<Member>? configure, bool owner, AsyncServiceScope? existing = null)
    {
        var scope = existing ?? server.Services.CreateAsyncScope();
        try
        {
            var name = UniqueName();
            var member = new Member
            {
                DisplayName = name,
                DisplayNameKey = DisplayNameRules.Key(name),
                IsOwner = owner,
                MigrationStatus = 1,
            };
            configure?.Invoke(member);
            return await scope.ServiceProvider.GetRequiredService<MemberCreator>().CreateAsync(account, member, default);
        }
        finally
        {
            if (existing is null)
            {
                await scope.DisposeAsync();
            }
        }
    }
}
