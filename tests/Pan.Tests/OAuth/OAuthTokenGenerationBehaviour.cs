using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.EntityFrameworkCore.Models;
using Pan.Data;
using Pan.General.Admin;
using Pan.General.Member;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Pan.Tests.OAuth;

/// <summary>
/// A grant that races a password change or reset (the member's token generation, <c>pan_gen</c>): OpenIddict redeemed
/// the old refresh token (or Pan read the member for a code) before the change committed, and stored the new entries
/// after it, so the revocation never saw them and they are valid. The race is reproduced without timing: the grant runs
/// before the change, and its entries are set back to valid after it, as if they had been inserted then. Such codes and
/// tokens are still refused, by every password path. Also the default access-token lifetime (10 minutes).
/// </summary>
public abstract class OAuthTokenGenerationBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OAuthCredentialFixture
{
    private readonly Mailboxes mail = new(fixture);

    private readonly OAuthWebApp app = new(fixture);

    [Theory]
    [InlineData("change")]
    [InlineData("reset")]
    [InlineData("admin")]
    public async Task TokensOfARefreshThatRacedAPasswordChange_AreRefused(string path)
    {
        var victim = await MemberWithPasswordAsync();
        var tokens = await app.TokensAsync(victim.AccessToken, remember: true);
        var before = await EntryIdsAsync(victim.Uid);
        var (status, raced) = await app.RefreshAsync(tokens);
        Assert.Equal(HttpStatusCode.OK, status);

        await ChangePasswordAsync(path, victim);
        Assert.NotEqual(0, await RevalidateEntriesAsync(victim.Uid, except: before));

        OAuthWebApp.ExpectInvalidGrant(await app.RefreshAsync(raced));
        var access = raced.GetProperty("access_token").GetString()!;
        Assert.False(await app.IsActiveAsync(access));
        Assert.Equal(HttpStatusCode.Unauthorized, await app.UserInfoStatusAsync(access));
    }

    [Fact]
    public async Task ARefreshTokenOfARacedRefresh_IsInactiveAtIntrospection()
    {
        var victim = await MemberWithPasswordAsync();
        var tokens = await app.TokensAsync(victim.AccessToken, remember: true);
        var before = await EntryIdsAsync(victim.Uid);
        var (_, raced) = await app.RefreshAsync(tokens);

        await ChangePasswordAsync("change", victim);
        await RevalidateEntriesAsync(victim.Uid, except: before);

        Assert.False(await app.IsActiveAsync(raced.GetProperty("refresh_token").GetString()!, "refresh_token"));
    }

    [Fact]
    public async Task ACodeIssuedBeforeAPasswordChange_ButStoredAfterIt_IsRefused()
    {
        var victim = await MemberWithPasswordAsync();
        await app.TokensAsync(victim.AccessToken, remember: true);
        var before = await EntryIdsAsync(victim.Uid);
        var code = await app.CodeAsync(victim.AccessToken);

        await ChangePasswordAsync("change", victim);
        Assert.NotEqual(0, await RevalidateEntriesAsync(victim.Uid, except: before));

        OAuthWebApp.ExpectInvalidGrant(await app.ExchangeAsync(code));
    }

    [Fact]
    public async Task TokensIssuedAfterAPasswordChange_Work()
    {
        var victim = await MemberWithPasswordAsync();
        await app.TokensAsync(victim.AccessToken, remember: true);

        await ChangePasswordAsync("change", victim);
        var tokens = await app.TokensAsync(victim.AccessToken, remember: false);
        var (status, refreshed) = await app.RefreshAsync(tokens);

        Assert.Equal(HttpStatusCode.OK, status);
        var access = refreshed.GetProperty("access_token").GetString()!;
        Assert.True(await app.IsActiveAsync(access));
        Assert.Equal(HttpStatusCode.OK, await app.UserInfoStatusAsync(access));
    }

    [Fact]
    public async Task AccessToken_LivesTenMinutes_ByDefault()
    {
        var member = await mail.RegisterAsync();

        var tokens = await app.TokensAsync(member.AccessToken, remember: false);

        var payload = JsonDocument.Parse(Base64UrlEncoder.Decode(tokens.GetProperty("access_token").GetString()!.Split('.')[1])).RootElement;
        Assert.Equal(600, payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64());
        Assert.InRange(tokens.GetProperty("expires_in").GetInt32(), 590, 600);
        var idToken = JsonDocument.Parse(Base64UrlEncoder.Decode(tokens.GetProperty("id_token").GetString()!.Split('.')[1])).RootElement;
        Assert.False(idToken.TryGetProperty("pan_gen", out _));
    }

    private static string FirstPassword => Credentials.TestCredentials.Password;

    private static string NewPassword => Credentials.TestCredentials.OtherPassword;

    /// <summary>A registered member with an email address and a first password (SetMemberPassword ends no session).</summary>
    private async Task<TestMember> MemberWithPasswordAsync()
    {
        var member = await mail.RegisterWithEmailAsync();
        await mail.Client.SetMemberPasswordAsync(new SetMemberPasswordRequest
        {
            AccessToken = member.AccessToken, Password = FirstPassword, ConfirmPassword = FirstPassword, ResetCode = await mail.ProofAsync(member),
        });
        return member;
    }

    /// <summary>Changes the password with the current one, resets it by email, or has an admin set it.</summary>
    private async Task ChangePasswordAsync(string path, TestMember victim)
    {
        switch (path)
        {
            case "change":
                await mail.Client.UpdateCredentialAsync(new UpdateCredentialRequest
                {
                    PanAuthToken = victim.AuthToken, OriginalPassword = FirstPassword, NewPassword = NewPassword, ConfirmNewPassword = NewPassword,
                });
                break;
            case "reset":
                await mail.Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = victim.Name, Email = victim.Email! });
                var code = SmtpInbox.CodeOf(await mail.MailAsync(victim.Email!, 2));
                var reset = await mail.Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = code });
                await mail.Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = reset.AuthResetToken, Password = NewPassword, ConfirmPassword = NewPassword });
                break;
            default:
                var admin = await fixture.SignInNewAdminAsync("member-admin");
                await new AdminService.AdminServiceClient(fixture.Server.Grpc).ChangeMemberPasswordAsync(
                    new ChangeMemberPasswordRequest { AdminToken = admin, Uid = victim.Uid, Password = NewPassword });
                break;
        }
    }

    private async Task<List<string>> EntryIdsAsync(long uid)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var subject = await SubjectAsync(db, uid);
        return await db.Set<OpenIddictEntityFrameworkCoreToken>().Where(t => t.Subject == subject).Select(t => t.Id!).ToListAsync();
    }

    /// <summary>Sets the member's token entries not in <paramref name="except"/> back to valid: stored after the revocation.</summary>
    private async Task<int> RevalidateEntriesAsync(long uid, List<string> except)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var subject = await SubjectAsync(db, uid);
        return await db.Set<OpenIddictEntityFrameworkCoreToken>()
            .Where(t => t.Subject == subject && !except.Contains(t.Id!))
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.Status, Statuses.Valid));
    }

    private static async Task<string> SubjectAsync(PanDbContext db, long uid) =>
        (await db.Members.Where(m => m.Uid == uid).Select(m => m.ObjectId).SingleAsync()).ToString("D");
}

public sealed class OAuthTokenGenerationBehaviour_Sqlite(SqliteOAuthCredentialFixture f) : OAuthTokenGenerationBehaviour<SqliteOAuthCredentialFixture>(f);

public sealed class OAuthTokenGenerationBehaviour_Postgres(PostgresOAuthCredentialFixture f) : OAuthTokenGenerationBehaviour<PostgresOAuthCredentialFixture>(f);
