using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.Credentials;
using Pan.Data.Tokens;
using Pan.General.Member;
using Pan.Server.BruteForce;
using Pan.Server.Credentials;
using Pan.Server.Recovery;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;
using Pan.Tests.OAuth;
using Pan.Tests.Pages;
using static Pan.Tests.Foundation.HalfWrittenChecks;

namespace Pan.Tests.Foundation;

/// <summary>
/// SECURITY 21 for the password resets (AuthResetUpdate after an email code and after an SMS code, and the hosted reset
/// page's form, which shares <see cref="ResetCompletion"/> with it), for a password
/// change of a member who has OAuth grants and for a change of email and password together: the LAST write of each is made to fail on the real database
/// (<see cref="FailureTriggers"/>). The old password, the member's sessions and app tokens stay, the auth_reset_token
/// or verify token is not spent, and once the trigger is gone the same request succeeds.
/// </summary>
public abstract class HalfWrittenCredentialBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OAuthCredentialFixture
{
    private readonly Mailboxes mail = new(fixture);

    private readonly OAuthWebApp app = new(fixture);

    private MemberServiceV2.MemberServiceV2Client Client => mail.Client;

    [Fact]
    public async Task ResetByEmail_WhenClearingTheFailureStreakFails_KeepsTheOldPasswordSessionsAndAppTokens_AndTheTokenThenResets()
    {
        var member = await mail.RegisterWithEmailAsync();
        await SetFirstPasswordAsync(member);
        var appAccess = (await app.TokensAsync(member.AccessToken, remember: true)).GetProperty("access_token").GetString()!;
        await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = member.Email! });
        var code = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!, 2));
        var reset = await Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = code });
        await RecordFailureAsync(member.Uid);
        var password = Mailboxes.StrongPassword();
        var request = new AuthResetUpdateRequest { AuthResetToken = reset.AuthResetToken, Password = password, ConfirmPassword = password };

        await ExpectResetKeptNothingAsync(member, request, ResetChannels.Email, appAccess);
        Assert.Equal(2, mail.Count(member.Email!));

        await Client.AuthResetUpdateAsync(request);
        Assert.False(await app.IsActiveAsync(appAccess));
        Assert.Equal(0, await mail.DbAsync(db => db.Set<LoginFailure>().CountAsync(f => f.Uid == member.Uid)));
        await mail.MailAsync(member.Email!, 3);
    }

    [Fact]
    public async Task ResetBySms_WhenClearingTheFailureStreakFails_KeepsTheOldPasswordAndSessions_AndTheTokenThenResets()
    {
        var member = await mail.RegisterAsync();
        await SetFirstPasswordAsync(member);
        await Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = member.Name, Phone = member.E164 });
        var code = await PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, member.E164, 2);
        var reset = await Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = code, Phone = member.E164, DisplayName = member.Name });
        await RecordFailureAsync(member.Uid);
        var password = Mailboxes.StrongPassword();
        var request = new AuthResetUpdateRequest { AuthResetToken = reset.AuthResetToken, Password = password, ConfirmPassword = password };

        await ExpectResetKeptNothingAsync(member, request, ResetChannels.Phone, appAccess: null);

        await Client.AuthResetUpdateAsync(request);
        // The SMS notice goes out once, for the reset that happened (the third text to the phone).
        Assert.Contains("已重設", (await fixture.Inbox.WaitForMessageAsync(member.E164, 3, PhoneFlows.Phones.Wait)).Text, StringComparison.Ordinal);
        Assert.Equal(0, await mail.DbAsync(db => db.Set<LoginFailure>().CountAsync(f => f.Uid == member.Uid)));
    }

    [Fact]
    public async Task ResetPage_WhenClearingTheFailureStreakFails_KeepsTheOldPasswordAndSessions_AndTheSameFormPostThenResets()
    {
        var member = await mail.RegisterWithEmailAsync();
        await SetFirstPasswordAsync(member);
        await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = member.Email! });
        var link = SmtpInbox.LinkOf(await mail.MailAsync(member.Email!, 2), "/account/reset-password");
        await RecordFailureAsync(member.Uid);
        var hash = await PasswordHashAsync(member.Uid);
        using var browser = new PageClient(fixture.Server.HttpUri, "en");
        string formHtml;
        using (var form = await browser.GetAsync(link))
        {
            Assert.Equal(HttpStatusCode.OK, form.StatusCode);
            formHtml = await form.Content.ReadAsStringAsync();
        }

        var password = Mailboxes.StrongPassword();
        var action = new Uri(link, PageClient.Action(formHtml));
        KeyValuePair<string, string>[] fields =
        [
            new("af", PageClient.Hidden(formHtml, "af")), new("token", PageClient.Hidden(formHtml, "token")),
            new("password", password), new("confirm_password", password),
        ];

        // The last write, as for AuthResetUpdate: clearing the failure streak (after the link's use, the new hash and the
        // end of every session).
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "login_failures", TriggeredWrite.Delete, member.Uid))
        {
            using var failed = await browser.PostFormAsync(action, fields);
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
            Assert.DoesNotContain(FailureTriggers.Message, await failed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(hash, await PasswordHashAsync(member.Uid));
        Assert.Equal(1, await mail.DbAsync(db => db.Set<LoginFailure>().CountAsync(f => f.Uid == member.Uid)));
        Assert.Equal(member.Uid, (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = member.AccessToken })).Info.Uid);
        Assert.Equal(2, mail.Count(member.Email!));
        using (var again = await browser.GetAsync(link))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        // The link was not used up: the same form post now resets the password, ends the sessions and tells the member.
        using (var done = await browser.PostFormAsync(action, fields))
        {
            Assert.Equal(HttpStatusCode.OK, done.StatusCode);
            Assert.Contains("Your password has been reset.", await done.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            Assert.Equal(SecretCheck.Ok, await scope.ServiceProvider.GetRequiredService<CredentialStore>().CheckPasswordAsync(member.Uid, password, CancellationToken.None));
        }

        Assert.Equal(0, await mail.DbAsync(db => db.Set<LoginFailure>().CountAsync(f => f.Uid == member.Uid)));
        await Errors.ExpectAsync(() => Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = member.AccessToken }).ResponseAsync,
            Grpc.Core.StatusCode.Unauthenticated, "ErrValidateAccessToken.TOKEN_INVALID");
        await mail.MailAsync(member.Email!, 3);
        using var used = await browser.GetAsync(link);
        Assert.Equal(HttpStatusCode.BadRequest, used.StatusCode);
    }

    [Fact]
    public async Task PasswordChange_WhenRevokingTheAppTokensFails_KeepsTheOldPasswordSessionsAndAppTokens_AndTheVerifyTokenThenChangesIt()
    {
        var member = await mail.RegisterAsync();
        await SetFirstPasswordAsync(member);
        var other = await mail.Phones.AccessTokenAsync(await mail.Phones.LoginAsync(member.E164));
        var tokens = await app.TokensAsync(member.AccessToken, remember: true);
        var appAccess = tokens.GetProperty("access_token").GetString()!;
        var hash = await PasswordHashAsync(member.Uid);
        var generation = await mail.DbAsync(db => db.Members.Where(m => m.Uid == member.Uid).Select(m => m.TokenGeneration).SingleAsync());
        var verify = await VerifyTokenAsync(fixture.Server, member.Uid, Pan.Server.Tokens.VerifyPurposes.UpdateCredential);
        var password = Mailboxes.StrongPassword();
        var request = new UpdateCredentialRequest { PanAuthToken = member.AuthToken, VerifyToken = verify, NewPassword = password, ConfirmNewPassword = password };

        // The last write: the OAuth revoker marking the member's app tokens revoked (after the new hash, the other
        // sessions' end, the generation bump and the caller's access tokens' re-stamp).
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "oauth_tokens", TriggeredWrite.Update))
        {
            await ExpectInternalAsync(() => Client.UpdateCredentialAsync(request).ResponseAsync);
        }

        Assert.Equal(hash, await PasswordHashAsync(member.Uid));
        Assert.Equal(generation, await mail.DbAsync(db => db.Members.Where(m => m.Uid == member.Uid).Select(m => m.TokenGeneration).SingleAsync()));
        Assert.True(await mail.ProofIsLiveAsync(verify, member.Uid));
        await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = other });
        Assert.True(await app.IsActiveAsync(appAccess));
        Assert.True(await app.IsActiveAsync(tokens.GetProperty("refresh_token").GetString()!, "refresh_token"));

        // The verify token was not spent: the same request now changes the password and ends the app's grant.
        await Client.UpdateCredentialAsync(request);
        Assert.NotEqual(hash, await PasswordHashAsync(member.Uid));
        Assert.False(await app.IsActiveAsync(appAccess));
        OAuthWebApp.ExpectInvalidGrant(await app.RefreshAsync(tokens));
        await Errors.ExpectAsync(() => Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = other }).ResponseAsync,
            Grpc.Core.StatusCode.Unauthenticated, "ErrValidateAccessToken.TOKEN_INVALID");
    }

    [Fact]
    public async Task EmailAndPasswordChange_WhenStoringTheEmailCodeFails_KeepsTheOldEmailPasswordAndSessions_SendsNothing_AndTheVerifyTokenThenChangesThem()
    {
        var member = await mail.RegisterWithEmailAsync();
        await SetFirstPasswordAsync(member);
        var other = await mail.Phones.AccessTokenAsync(await mail.Phones.LoginAsync(member.E164));
        var hash = await PasswordHashAsync(member.Uid);
        var oldMails = mail.Count(member.Email!);
        var address = Mailboxes.NewAddress();
        var verify = await VerifyTokenAsync(fixture.Server, member.Uid, Pan.Server.Tokens.VerifyPurposes.UpdateCredential);
        var password = Mailboxes.StrongPassword();
        var request = new UpdateCredentialRequest
        {
            PanAuthToken = member.AuthToken, VerifyToken = verify, Email = address, NewPassword = password, ConfirmNewPassword = password,
        };

        // The last write: the new address's verification code (after the token's use, the new hash, the other
        // sessions' end and the member's new, unverified address).
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "email_codes", TriggeredWrite.Insert, member.Uid))
        {
            await ExpectInternalAsync(() => Client.UpdateCredentialAsync(request).ResponseAsync);
        }

        Assert.True(await mail.ProofIsLiveAsync(verify, member.Uid));
        Assert.Equal(hash, await PasswordHashAsync(member.Uid));
        Assert.Equal((member.Email, true), await mail.DbAsync(db => db.Members.Where(m => m.Uid == member.Uid).Select(m => new ValueTuple<string?, bool>(m.Email, m.EmailVerified)).SingleAsync()));
        await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = other });
        Assert.Equal(0, mail.Count(address));
        Assert.Equal(oldMails, mail.Count(member.Email!));

        // The verify token was not spent: the same request now changes both, mails the new address and tells the old one.
        await Client.UpdateCredentialAsync(request);
        Assert.False(await mail.ProofIsLiveAsync(verify, member.Uid));
        Assert.NotEqual(hash, await PasswordHashAsync(member.Uid));
        Assert.NotEmpty(SmtpInbox.CodeOf(await mail.MailAsync(address)));
        await mail.MailAsync(member.Email!, oldMails + 1);
        await Errors.ExpectAsync(() => Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = other }).ResponseAsync,
            Grpc.Core.StatusCode.Unauthenticated, "ErrValidateAccessToken.TOKEN_INVALID");
    }

    /// <summary>
    /// Runs <paramref name="request"/> with the reset's last write failing (clearing the failure streak, after the token's
    /// use, the new hash, the end of every session and of the app tokens) and checks that none of it stayed.
    /// </summary>
    private async Task ExpectResetKeptNothingAsync(TestMember member, AuthResetUpdateRequest request, string channel, string? appAccess)
    {
        var hash = await PasswordHashAsync(member.Uid);
        var texts = fixture.Inbox.MessagesTo(member.E164).Count;
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "login_failures", TriggeredWrite.Delete, member.Uid))
        {
            await ExpectInternalAsync(() => Client.AuthResetUpdateAsync(request).ResponseAsync);
        }

        Assert.Equal(hash, await PasswordHashAsync(member.Uid));
        Assert.False(await VerifyTokenSpentAsync(member.Uid, channel));
        Assert.Equal(1, await mail.DbAsync(db => db.Set<LoginFailure>().CountAsync(f => f.Uid == member.Uid)));
        Assert.Equal(member.Uid, (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = member.AccessToken })).Info.Uid);
        Assert.Equal(texts, fixture.Inbox.MessagesTo(member.E164).Count);
        if (appAccess is not null)
        {
            Assert.True(await app.IsActiveAsync(appAccess));
        }
    }

    /// <summary>
    /// A first password through SetMemberPassword, which ends no session (the member's access token stays). Its verify
    /// token is issued as the SMS step-up would: the texts these tests count are the reset's.
    /// </summary>
    private async Task SetFirstPasswordAsync(TestMember member)
    {
        var password = Mailboxes.StrongPassword();
        var proof = await mail.IssueVerifyTokenAsync(member.Uid, Pan.Server.Tokens.VerifyPurposes.UpdateCredential);
        await Client.SetMemberPasswordAsync(new SetMemberPasswordRequest { AccessToken = member.AccessToken, Password = password, ConfirmPassword = password, ResetCode = proof });
    }

    private async Task RecordFailureAsync(long uid)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<FailureCounter>().RecordFailureAsync(uid, CancellationToken.None);
    }

    private Task<bool> VerifyTokenSpentAsync(long uid, string purpose) =>
        mail.DbAsync(db => db.Set<StoredVerifyToken>().AnyAsync(t => t.Uid == uid && t.Purpose == purpose && t.UsedAt != null));

    private Task<string?> PasswordHashAsync(long uid) =>
        mail.DbAsync(db => db.Set<MemberCredential>().Where(c => c.Uid == uid).Select(c => c.PasswordHash).SingleOrDefaultAsync());
}

public sealed class HalfWrittenCredentialBehaviour_Sqlite(SqliteOAuthCredentialFixture f) : HalfWrittenCredentialBehaviour<SqliteOAuthCredentialFixture>(f);

public sealed class HalfWrittenCredentialBehaviour_Postgres(PostgresOAuthCredentialFixture f) : HalfWrittenCredentialBehaviour<PostgresOAuthCredentialFixture>(f);
