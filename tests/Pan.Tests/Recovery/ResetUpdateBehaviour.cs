using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.Credentials;
using Pan.General.Member;
using Pan.General.Member.Dangerous;
using Pan.Server.BruteForce;
using Pan.Server.Credentials;
using Pan.Server.Tokens;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Recovery;

/// <summary>AuthResetUpdate: the last step of a reset, by email code or by SMS code.</summary>
public abstract class ResetUpdateBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : EmailFixture
{
    private readonly Mailboxes mail = new(fixture);

    private MemberServiceV2.MemberServiceV2Client Client => mail.Client;

    [Fact]
    public async Task Update_WithoutPasswordOrWithABadToken_IsRefused()
    {
        var ex = await Errors.ExpectAsync(() => Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = "x" }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetUpdateResponse.ErrPasswordRequired");
        Assert.Equal("password", ex.BadRequest()!.FieldViolations.Single().Field);
        await Errors.ExpectAsync(
            () => Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", Password = "x", ConfirmPassword = "x" }).ResponseAsync,
            StatusCode.Unauthenticated, "AuthResetUpdateResponse.ErrFailed");
    }

    [Fact]
    public async Task Update_WithDifferentConfirmation_IsConfirmingFailed_AndKeepsTheToken()
    {
        var (_, token) = await ResetTokenByEmailAsync();
        var ex = await Errors.ExpectAsync(
            () => Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = token, Password = "one-password-1", ConfirmPassword = "other-password-2" }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetUpdateResponse.ErrNewPasswordConfirmingFailed");
        Assert.Equal("confirm_password", ex.BadRequest()!.FieldViolations.Single().Field);
    }

    [SeamFact]
    public async Task Update_ByEmail_SetsThePassword_EndsEverySession_NotifiesByEmail_AndWorksOnce()
    {
        var (member, token) = await ResetTokenByEmailAsync();
        var password = Mailboxes.StrongPassword();
        await Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = token, Password = password, ConfirmPassword = password });

        Assert.Equal(SecretCheck.Ok, await CheckPasswordAsync(member.Uid, password));
        await Errors.ExpectAsync(() => Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = member.AccessToken }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrValidateAccessToken.TOKEN_INVALID");
        var notice = await mail.MailAsync(member.Email!, 3);
        Assert.Contains("重設", notice.Subject, StringComparison.Ordinal);
        Assert.Matches(@"^\s*$", SmtpInbox.CodeOf(notice));

        await Errors.ExpectAsync(
            () => Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = token, Password = password, ConfirmPassword = password }).ResponseAsync,
            StatusCode.Unauthenticated, "AuthResetUpdateResponse.ErrFailed");
    }

    [SeamFact]
    public async Task Update_TenParallelUsesOfOneToken_ExactlyOneSucceeds()
    {
        var (_, token) = await ResetTokenByEmailAsync();
        var password = Mailboxes.StrongPassword();
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => PhoneFlows.Phones.StatusOf(() =>
            Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = token, Password = password, ConfirmPassword = password }).ResponseAsync)));
        Assert.Equal(1, results.Count(r => r == StatusCode.OK));
        Assert.Equal(9, results.Count(r => r == StatusCode.Unauthenticated));
    }

    [SeamFact]
    public async Task Update_PasswordAgainstTheRules_IsNewPasswordRuleWithTheReason_AndKeepsTheToken()
    {
        var (_, token) = await ResetTokenByEmailAsync();
        var ex = await Errors.ExpectAsync(
            () => Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = token, Password = "password", ConfirmPassword = "password" }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetUpdateResponse.ErrNewPasswordRule");
        Assert.False(string.IsNullOrWhiteSpace(ex.Status.Detail));
        Assert.Equal("password", ex.BadRequest()!.FieldViolations.Single().Field);

        var password = Mailboxes.StrongPassword();
        await Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = token, Password = password, ConfirmPassword = password });
    }

    [SeamFact]
    public async Task APasswordDerivedFromTheMembersAccountName_IsRefused_ByAResetAndByUpdateCredential_AsByTheAdminsChange()
    {
        // A converted guest's account name (members.username) is public (ReadObject) like its display name; the admin's
        // ChangeMemberPassword refuses a password derived from it, and so must every other way of setting one.
        var (member, token) = await ResetTokenByEmailAsync();
        var accountName = "acct" + Guid.NewGuid().ToString("N")[..10];
        await TestMembers.UpdateAsync(fixture.Server, member.Uid, m => m.Username = accountName);
        var derived = accountName + "!";

        await Errors.ExpectAsync(
            () => Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = token, Password = derived, ConfirmPassword = derived }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetUpdateResponse.ErrNewPasswordRule");
        await Errors.ExpectAsync(
            async () => await Client.UpdateCredentialAsync(new UpdateCredentialRequest { PanAuthToken = member.AuthToken, VerifyToken = await mail.ProofAsync(member), NewPassword = derived, ConfirmNewPassword = derived }),
            StatusCode.InvalidArgument, "UpdateCredentialResponse.ErrNewPasswordRule");
        Assert.Equal(SecretCheck.NotSet, await CheckPasswordAsync(member.Uid, derived));
    }

    [SeamFact]
    public async Task Update_WithASecurityQuestion_NeedsTheRightAnswer_MissingWrongAndLockedAnswerAlike()
    {
        var (member, token) = await ResetTokenByEmailAsync(question: ("Favourite fruit?", "Mango"));
        var password = Mailboxes.StrongPassword();
        var messages = new List<string>();
        foreach (var answer in new SecurityQuestion?[] { null, new() { Answer = "" }, new() { Answer = "banana" } })
        {
            var ex = await Errors.ExpectAsync(
                () => Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = token, Password = password, ConfirmPassword = password, SecurityQuestion = answer }).ResponseAsync,
                StatusCode.InvalidArgument, "AuthResetUpdateResponse.ErrSecurityQuestionAnswerRequired");
            messages.Add(ex.Status.Detail);
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(30));
        }

        Assert.Single(messages.Distinct());
        await mail.ClearFailuresAsync(member.Uid);
        await Client.AuthResetUpdateAsync(new AuthResetUpdateRequest
        {
            AuthResetToken = token, Password = password, ConfirmPassword = password, SecurityQuestion = new() { Question = "ignored", Answer = "  mango " },
        });
        Assert.Equal(SecretCheck.Ok, await CheckPasswordAsync(member.Uid, password));
    }

    [SeamFact]
    public async Task Update_ByPhone_NotifiesBySms()
    {
        var member = await mail.RegisterAsync();
        await Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = member.Name, Phone = member.E164 });
        var code = await PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, member.E164, 2);
        var reset = await Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = code, Phone = member.E164, DisplayName = member.Name });
        var password = Mailboxes.StrongPassword();
        await Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = reset.AuthResetToken, Password = password, ConfirmPassword = password });

        var notice = await fixture.Inbox.WaitForMessageAsync(member.E164, 3, PhoneFlows.Phones.Wait);
        Assert.Contains("已重設", notice.Text, StringComparison.Ordinal);
        Assert.Equal(SecretCheck.Ok, await CheckPasswordAsync(member.Uid, password));
    }

    /// <summary>
    /// Whoever else asked for a reset of this member (an older mail in a shared mailbox, a code texted meanwhile, an
    /// auth_reset_token not yet spent) must not be able to reset the password again once the member has reset it.
    /// </summary>
    [SeamFact]
    public async Task Update_EndsEveryOtherResetProofOfTheMember_Tokens_MailedCodesAndLinks_AndTextedCodes()
    {
        var member = await mail.RegisterWithEmailAsync();
        await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = member.Email! });
        var byEmail = await Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!, 2)) });
        await Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = member.Name, Phone = member.E164 });
        var firstText = await PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, member.E164, 2);
        var byPhone = await Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = firstText, Phone = member.E164, DisplayName = member.Name });

        // Past the cool-downs: a second mail (code and link) and a second text, neither used yet.
        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = member.Email! });
        var secondMail = await mail.MailAsync(member.Email!, 3);
        await Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = member.Name, Phone = member.E164 });
        var secondText = await PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, member.E164, 3);

        var password = Mailboxes.StrongPassword();
        await Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = byPhone.AuthResetToken, Password = password, ConfirmPassword = password });

        var other = Mailboxes.StrongPassword();
        await Errors.ExpectAsync(
            () => Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = byEmail.AuthResetToken, Password = other, ConfirmPassword = other }).ResponseAsync,
            StatusCode.Unauthenticated, "AuthResetUpdateResponse.ErrFailed");
        await Errors.ExpectAsync(
            () => Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(secondMail) }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetVerifyEmailCodeResponse.ErrCodeInvalid");
        using (var page = await fixture.Server.Http.GetAsync(SmtpInbox.LinkOf(secondMail, "/account/reset-password").PathAndQuery))
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, page.StatusCode);
        }

        await mail.ClearFailuresAsync(member.Uid);
        await Errors.ExpectAsync(
            () => Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = secondText, Phone = member.E164, DisplayName = member.Name }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetVerifyPhoneCodeResponse.ErrCodeInvalid");
        Assert.Equal(SecretCheck.Ok, await CheckPasswordAsync(member.Uid, password));
    }

    [SeamFact]
    public async Task EmailChange_EndsTheResetProofsThatCameThroughTheOldAddress_NotTheTextedOnes()
    {
        var member = await mail.RegisterWithEmailAsync();
        await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = member.Email! });
        var byEmail = await Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!, 2)) });
        await Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = member.Name, Phone = member.E164 });
        var byPhone = await Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest
        {
            Code = await PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, member.E164, 2), Phone = member.E164, DisplayName = member.Name,
        });

        // The member moves its email elsewhere (UpdateCredential after the SMS step-up), say because the old mailbox
        // was lost: the auth_reset_token already fetched through it must not set the password afterwards.
        await Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = member.AccessToken, SessionToken = "update-credential" });
        var verify = await Client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest
        {
            PanAccessToken = member.AccessToken, SessionToken = "update-credential", Code = await PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, member.E164, 3),
        });
        await Client.UpdateCredentialAsync(new UpdateCredentialRequest { PanAuthToken = member.AuthToken, VerifyToken = verify.VerifyToken, Email = Mailboxes.NewAddress() });

        var password = Mailboxes.StrongPassword();
        await Errors.ExpectAsync(
            () => Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = byEmail.AuthResetToken, Password = password, ConfirmPassword = password }).ResponseAsync,
            StatusCode.Unauthenticated, "AuthResetUpdateResponse.ErrFailed");
        await Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = byPhone.AuthResetToken, Password = password, ConfirmPassword = password });
        Assert.Equal(SecretCheck.Ok, await CheckPasswordAsync(member.Uid, password));
    }

    [SeamFact]
    public async Task Update_AfterTheMemberWasDeleted_IsFailed_WritesNoPasswordAndSendsNoNotice()
    {
        // The member asks for a reset, gets its auth_reset_token, then deletes itself before using it. Another member
        // stays under the phone, so the account (and its phone) outlive the deleted member.
        var member = await mail.RegisterAsync();
        var row = await TestMembers.WithDbAsync(fixture.Server, db => db.Members.AsNoTracking().SingleAsync(m => m.Uid == member.Uid));
        await TestMembers.AddToPhoneAsync(fixture.Server, row);
        await Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = member.Name, Phone = member.E164 });
        var code = await PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, member.E164, 2);
        var reset = await Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = code, Phone = member.E164, DisplayName = member.Name });
        string delToken;
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            delToken = (await scope.ServiceProvider.GetRequiredService<TokenService>().IssueVerifyTokenAsync(member.Uid, VerifyPurposes.Delete, default)).Token;
        }

        await new Command.CommandClient(fixture.Server.Grpc).DeleteMemberAsync(
            new CmdDeleteMemberRequest { AppId = "jkforum", PanAccessToken = member.AccessToken, DelToken = delToken });

        var password = Mailboxes.StrongPassword();
        await Errors.ExpectAsync(
            () => Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = reset.AuthResetToken, Password = password, ConfirmPassword = password }).ResponseAsync,
            StatusCode.Unauthenticated, "AuthResetUpdateResponse.ErrFailed");
        Assert.False(await mail.DbAsync(db => db.Set<MemberCredential>().AnyAsync(c => c.Uid == member.Uid)));
        Assert.Equal(2, fixture.Inbox.MessagesTo(member.E164).Count);
    }

    [SeamFact]
    public async Task ResetCode_ForALockedMember_AnswersLikeAWrongCode()
    {
        var member = await mail.RegisterAsync();
        await Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = member.Name, Phone = member.E164 });
        var code = await PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, member.E164, 2);
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var failures = scope.ServiceProvider.GetRequiredService<FailureCounter>();
            for (var i = 0; i < 100; i++)
            {
                await failures.RecordFailureAsync(member.Uid, CancellationToken.None);
            }
        }

        await Errors.ExpectAsync(
            () => Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = code, Phone = member.E164, DisplayName = member.Name }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetVerifyPhoneCodeResponse.ErrCodeInvalid");
    }

    private async Task<(TestMember Member, string Token)> ResetTokenByEmailAsync((string Question, string Answer)? question = null)
    {
        var member = await mail.RegisterWithEmailAsync();
        if (question is { } q)
        {
            await mail.SetCredentialsAsync(member.Uid, Mailboxes.StrongPassword(), q.Question, q.Answer);
        }

        await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = member.Email! });
        var code = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!, 2));
        var reset = await Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = code });
        return (member, reset.AuthResetToken);
    }

    private async Task<SecretCheck> CheckPasswordAsync(long uid, string password)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<CredentialStore>().CheckPasswordAsync(uid, password, CancellationToken.None);
    }
}

public sealed class ResetUpdateBehaviour_Sqlite(SqliteEmailFixture f) : ResetUpdateBehaviour<SqliteEmailFixture>(f);

public sealed class ResetUpdateBehaviour_Postgres(PostgresEmailFixture f) : ResetUpdateBehaviour<PostgresEmailFixture>(f);
