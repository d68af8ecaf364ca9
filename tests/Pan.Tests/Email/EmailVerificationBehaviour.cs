using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.Email;
using Pan.Data.Tokens;
using Pan.General.Member;
using Pan.Server.Email;
using Pan.Server.Tokens;
using Pan.Tests.Deletion;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Email;

/// <summary>SetMemberEmail, SendEmailVerification and VerifyEmailCode, with mail read from a real SMTP server.</summary>
public abstract class EmailVerificationBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : EmailFixture
{
    private readonly Mailboxes mail = new(fixture);

    private MemberServiceV2.MemberServiceV2Client Client => mail.Client;

    [Fact]
    public async Task Chain_AnAddressFromTheAccessTokenAlone_IsRefused_SoItNeverBecomesAVerifyTokenOrAPasswordReset()
    {
        // A phone member without an email or a password, and an app that holds only its access token.
        var member = await mail.RegisterAsync();
        var attacker = Mailboxes.NewAddress();

        // 1. SetMemberEmail with the access token alone and an address of the caller's.
        await Errors.ExpectAsync(
            () => Client.SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = member.AccessToken, Email = attacker }).ResponseAsync,
            StatusCode.PermissionDenied, "ErrSetMemberEmail.FAILED");
        Assert.Null(await mail.DbAsync(db => db.Members.AsNoTracking().Where(m => m.Uid == member.Uid).Select(m => m.Email).SingleAsync()));
        Assert.False(await mail.DbAsync(db => db.Set<EmailCode>().AnyAsync(c => c.Uid == member.Uid)));

        // 2. No verification mail, so no VerifyEmailCode and none of its update-credential verify tokens; and a reset
        //    by that address finds nobody: it answers as for any address and mails nothing.
        await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = attacker });
        await Task.Delay(300);
        Assert.Equal(0, mail.Count(attacker));
        var status = await Client.QueryMemberCredentialStatusAsync(new QueryMemberCredentialStatusRequest { PanAccessToken = member.AccessToken });
        Assert.Equal(new QueryMemberCredentialStatusResponse(), status);
    }

    [Fact]
    public async Task SetMemberEmail_WithoutAValidUpdateCredentialToken_IsPermissionDenied_WritesAndMailsNothing_AndSpendsNothing()
    {
        var member = await mail.RegisterAsync();
        var other = await mail.RegisterAsync();
        var owner = await mail.RegisterWithEmailAsync();
        var address = Mailboxes.NewAddress();
        var proof = await mail.ProofAsync(member);
        var spent = await mail.IssueVerifyTokenAsync(member.Uid, VerifyPurposes.UpdateCredential);
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            Assert.True(await scope.ServiceProvider.GetRequiredService<TokenService>().ConsumeVerifyTokenAsync(spent, member.Uid, VerifyPurposes.UpdateCredential, default));
        }

        var othersProof = await mail.IssueVerifyTokenAsync(other.Uid, VerifyPurposes.UpdateCredential);

        foreach (var verifyToken in new[]
        {
            string.Empty,
            "not-a-token",
            spent,
            othersProof,
            await mail.IssueVerifyTokenAsync(member.Uid, VerifyPurposes.SwitchMember),
            await mail.IssueVerifyTokenAsync(member.Uid, VerifyPurposes.Delete),
            await mail.IssueVerifyTokenAsync(member.Uid, VerifyPurposes.DeleteByPassword),
        })
        {
            await Errors.ExpectAsync(
                () => Client.SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = member.AccessToken, Email = address, VerifyToken = verifyToken }).ResponseAsync,
                StatusCode.PermissionDenied, "ErrSetMemberEmail.FAILED");
        }

        Assert.Null(await mail.DbAsync(db => db.Members.AsNoTracking().Where(m => m.Uid == member.Uid).Select(m => m.Email).SingleAsync()));
        Assert.False(await mail.DbAsync(db => db.Set<EmailCode>().AnyAsync(c => c.Uid == member.Uid)));
        Assert.True(await mail.ProofIsLiveAsync(othersProof, other.Uid));

        // An address another member verified spends nothing either; the same token then sets a free one, once.
        await Errors.ExpectAsync(
            () => Client.SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = member.AccessToken, Email = owner.Email!, VerifyToken = proof }).ResponseAsync,
            StatusCode.AlreadyExists, "ErrSetMemberEmail.EMAIL_EXISTS");
        Assert.True(await mail.ProofIsLiveAsync(proof, member.Uid));
        await Client.SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = member.AccessToken, Email = address, VerifyToken = proof });
        Assert.False(await mail.ProofIsLiveAsync(proof, member.Uid));
        Assert.NotNull(SmtpInbox.CodeOf(await mail.MailAsync(address)));
        await Task.Delay(300);
        Assert.Equal(1, mail.Count(address));
        await Errors.ExpectAsync(
            () => Client.SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = member.AccessToken, Email = Mailboxes.NewAddress(), VerifyToken = proof }).ResponseAsync,
            StatusCode.PermissionDenied, "ErrSetMemberEmail.FAILED");
    }

    [Fact]
    public async Task SetMemberEmail_OfAPhonelessMemberWithAPassword_TakesItsVerifyTokenFromVerifyMemberByPassword()
    {
        // An imported member without a phone: its password is its step-up.
        var password = Mailboxes.StrongPassword();
        var member = await mail.PhonelessAsync(null, verified: false, password);
        var proof = await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.Name, Password = password, SessionToken = "update-credential" });
        var address = Mailboxes.NewAddress();

        await Client.SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = member.AccessToken, Email = address, VerifyToken = proof.VerifyToken });

        await Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(await mail.MailAsync(address)) });
        Assert.True(await mail.IsVerifiedAsync(member.Uid));
    }

    [Fact]
    public async Task SetMemberPassword_OfAPhonelessMemberWithoutAPassword_TakesItsVerifyTokenFromItsEmail()
    {
        // A member a social login made (no phone, no password, the provider's address): the mailbox is its step-up,
        // whether the provider vouched for the address or not.
        foreach (var verified in new[] { true, false })
        {
            var member = await mail.PhonelessAsync(Mailboxes.NewAddress(), verified, null, Pan.Server.Omniauth.OmniauthTokens.AuthMethod);
            var password = Mailboxes.StrongPassword();
            await Errors.ExpectAsync(
                () => Client.SetMemberPasswordAsync(new SetMemberPasswordRequest { AccessToken = member.AccessToken, Password = password, ConfirmPassword = password }).ResponseAsync,
                StatusCode.PermissionDenied, "ErrSetMemberPassword.FAILED");

            await Client.SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken });
            var proof = await Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!)) });
            await Client.SetMemberPasswordAsync(new SetMemberPasswordRequest { AccessToken = member.AccessToken, Password = password, ConfirmPassword = password, ResetCode = proof.VerifyToken });

            Assert.NotEmpty((await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { Email = member.Email!, Password = password })).VerifyToken);
        }
    }

    [Fact]
    public async Task VerifyEmailCode_ForExportData_LetsAMemberWhoseOneProofIsItsMailboxExport_AndOnlyExport()
    {
        // A social login's member: no phone, no password; its mailbox is its one step-up.
        var member = await mail.PhonelessAsync(Mailboxes.NewAddress(), true, null, Pan.Server.Omniauth.OmniauthTokens.AuthMethod);

        await Client.SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken });
        var code = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!));
        var bad = await Errors.ExpectAsync(
            () => Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = code, SessionToken = "delete" }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("session_token", Assert.Single(bad.BadRequest()!.FieldViolations).Field);
        var proof = (await Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = code, SessionToken = VerifyPurposes.ExportData })).VerifyToken;

        Assert.False(await mail.ProofIsLiveAsync(proof, member.Uid));
        var password = Mailboxes.StrongPassword();
        await Errors.ExpectAsync(
            () => Client.SetMemberPasswordAsync(new SetMemberPasswordRequest { AccessToken = member.AccessToken, Password = password, ConfirmPassword = password, ResetCode = proof }).ResponseAsync,
            StatusCode.PermissionDenied, "ErrSetMemberPassword.FAILED");
        var export = await Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = member.AccessToken, VerifyToken = proof });
        Assert.Contains(member.Email!, export.Json, StringComparison.Ordinal);
    }

    /// <summary>
    /// A member whose one proof is its mailbox (a social login: no phone, no password) adds a passkey: VerifyEmailCode
    /// with session_token add-passkey issues that step-up, which BeginPasskeyRegistration takes, and nothing else. Before,
    /// add-passkey was INVALID_ARGUMENT there, and such a member could not add a passkey at all.
    /// </summary>
    [Fact]
    public async Task VerifyEmailCode_ForAddPasskey_LetsAMemberWhoseOneProofIsItsMailboxAddAPasskey_AndOnlyThat()
    {
        var member = await mail.PhonelessAsync(Mailboxes.NewAddress(), true, null, Pan.Server.Omniauth.OmniauthTokens.AuthMethod);
        await Client.SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken });
        var code = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!));

        var proof = (await Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = code, SessionToken = VerifyPurposes.AddPasskey })).VerifyToken;

        Assert.False(await mail.ProofIsLiveAsync(proof, member.Uid));
        await Errors.ExpectAsync(
            () => Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = member.AccessToken, VerifyToken = proof }).ResponseAsync,
            StatusCode.PermissionDenied, "ExportMyDataResponse.Error.VerifyTokenInvalid");
        await using var node = await fixture.StartNodeWithAsync(new Dictionary<string, string?>
        {
            ["Pan:Passkeys:RelyingPartyId"] = "pan.example.test",
            ["Pan:Passkeys:RelyingPartyName"] = "Pan tests",
            ["Pan:Passkeys:Origins:0"] = "https://pan.example.test",
        });
        var passkeys = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var begun = await passkeys.BeginPasskeyRegistrationAsync(new BeginPasskeyRegistrationRequest { AccessToken = member.AccessToken, VerifyToken = proof });
        Assert.NotEmpty(begun.RegistrationId);
    }

    /// <summary>
    /// A suspension ends the member's unspent verify tokens; a code mailed before it must not mint a new one after it.
    /// The right code is answered MEMBER_SUSPENDED and keeps nothing (code unspent, address not marked), so the same
    /// code finishes once the suspension is lifted.
    /// </summary>
    [Fact]
    public async Task VerifyEmailCode_OfASuspendedMember_IsMemberSuspended_IssuesNoVerifyToken_AndKeepsNothing()
    {
        var member = await mail.PhonelessAsync(Mailboxes.NewAddress(), verified: false, null, Pan.Server.Omniauth.OmniauthTokens.AuthMethod);
        await Client.SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken });
        var code = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!));
        await Pan.Tests.Admin.TestSuspensions.SuspendAsync(fixture.Server, member.Uid);

        await Errors.ExpectAsync(() => Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = code }).ResponseAsync, StatusCode.PermissionDenied, "MEMBER_SUSPENDED");

        Assert.False(await mail.IsVerifiedAsync(member.Uid));
        Assert.False(await mail.DbAsync(db => db.Set<StoredVerifyToken>().AnyAsync(t => t.Uid == member.Uid && t.UsedAt == null)));
        await Pan.Tests.Admin.TestSuspensions.RestoreAsync(fixture.Server, member.Uid);
        Assert.NotEmpty((await Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = code })).VerifyToken);
        Assert.True(await mail.IsVerifiedAsync(member.Uid));
    }

    [Fact]
    public async Task SetMemberEmail_WhileTheMembersDeletionIsUncommitted_AnswersLikeAGoneMember_AndWritesAndMailsNothing()
    {
        // The call reads the member while the deletion's transaction is still open (on PostgreSQL it still looks live),
        // then records the address: that write must wait for the deletion and then find no live member.
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        var proof = await mail.ProofAsync(member);
        Task<SetMemberEmailResponse> call;
        await using (var deletion = await UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, member.Uid))
        {
            call = Task.Run(() => Client.SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = member.AccessToken, Email = address, VerifyToken = proof }).ResponseAsync);
            Assert.True(await deletion.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await deletion.CommitAsync();
        }

        // What SetMemberEmail answers for a member that is gone (or whose access token went with it).
        await Errors.ExpectAsync(() => call, StatusCode.Unauthenticated, "ErrSetMemberEmail.FAILED");
        await NothingRecordedAsync(member.Uid, address);
    }

    [Fact]
    public async Task SendEmailVerification_WhileTheMembersDeletionIsUncommitted_AnswersLikeAGoneMember_AndIssuesAndMailsNothing()
    {
        // The call finds the member and its address while the deletion's transaction is still open (on PostgreSQL it
        // still looks live); the code it then issues must wait for the deletion and find no live member.
        var member = await mail.RegisterWithEmailAsync();
        var address = member.Email!;
        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        Task<SendEmailVerificationResponse> call;
        await using (var deletion = await UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, member.Uid))
        {
            call = Task.Run(() => Client.SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken }).ResponseAsync);
            Assert.True(await deletion.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await deletion.CommitAsync();
        }

        // What SendEmailVerification answers for a member that is gone (or whose access token went with it).
        await Errors.ExpectAsync(() => call, StatusCode.Unauthenticated, "SendEmailVerificationResponse.ErrFailed");
        Assert.False(await mail.DbAsync(db => db.Set<EmailCode>().AnyAsync(c => c.Uid == member.Uid)));
        Assert.Equal(1, mail.Count(address));
    }

    /// <summary>
    /// VerifyEmailCode racing the member's deletion: the code is right and the member live when the call checks it, and
    /// on PostgreSQL the deletion runs while the call is about to store its verify token. The call comes first, so it
    /// gets its token; the deletion must then take it away, not leave it behind.
    /// </summary>
    [Fact]
    public async Task VerifyEmailCode_WhenTheMembersDeletionRunsBeforeItsTokenIsStored_LeavesNoVerifyTokenOfTheMember()
    {
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, address);
        var code = SmtpInbox.CodeOf(await mail.MailAsync(address));

        var status = await DeletionRaces.DeletionBeforeTheVerifyTokenIsStoredAsync(fixture.Server, fixture.Database, member.Uid,
            () => Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = code }).ResponseAsync);

        Assert.Equal(StatusCode.OK, status);
        Assert.Equal(0, await DeletionRaces.VerifyTokensAsync(fixture.Server, member.Uid));
    }

    [Fact]
    public async Task VerifyEmailCode_WhileTheMembersDeletionIsUncommitted_IsCodeInvalid_AndIssuesNoVerifyToken()
    {
        // The call finds the code and the member while the deletion's transaction is still open (on PostgreSQL both
        // still look live); what it then writes must wait for the deletion and find no live member.
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, address);
        var code = SmtpInbox.CodeOf(await mail.MailAsync(address));
        Task<VerifyEmailCodeResponse> call;
        await using (var deletion = await UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, member.Uid))
        {
            call = Task.Run(() => Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = code }).ResponseAsync);
            Assert.True(await deletion.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await deletion.CommitAsync();
        }

        // What VerifyEmailCode answers for the code of a member that is gone.
        await Errors.ExpectAsync(() => call, StatusCode.InvalidArgument, "VerifyEmailCodeResponse.ErrCodeInvalid");
        Assert.Equal(0, await DeletionRaces.VerifyTokensAsync(fixture.Server, member.Uid));
        Assert.False(await mail.IsVerifiedAsync(member.Uid));
    }

    [Fact]
    public async Task SetMemberEmail_MailsACodeAndALink_AndTheCodeVerifiesTheEmailAndReturnsAVerifyToken()
    {
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, address);
        Assert.False(await mail.IsVerifiedAsync(member.Uid));

        var message = await mail.MailAsync(address);
        var from = Assert.Single(message.From.Mailboxes);
        Assert.Equal(("Pan Accounts", "no-reply@pan.test"), (from.Name, from.Address));
        Assert.NotNull(message.HtmlBody);
        Assert.NotNull(message.TextBody);
        var code = SmtpInbox.CodeOf(message);
        Assert.Matches("^[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}$", code);
        var link = SmtpInbox.LinkOf(message, "/account/verify-email");
        Assert.Equal(fixture.Server.HttpUri.Authority, link.Authority);
        Assert.Contains(code, message.HtmlBody, StringComparison.Ordinal);

        var verified = await Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = code.ToLowerInvariant().Replace("-", " ", StringComparison.Ordinal) });
        Assert.Equal(43, verified.VerifyToken.Length);
        Assert.True(await mail.IsVerifiedAsync(member.Uid));
        var stored = await mail.DbAsync(db => db.Members.Where(m => m.Uid == member.Uid).Select(m => new { m.Email, m.EmailKey }).FirstAsync());
        Assert.Equal(address, stored.Email);
        Assert.Equal(address.ToLowerInvariant(), stored.EmailKey);
    }

    [Fact]
    public async Task UpdateCredential_WithANewEmail_AndAPhoneVerifyToken_MailsTheVerification()
    {
        var member = await mail.RegisterAsync();
        await Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = member.AccessToken, SessionToken = "update-credential" });
        var code = await PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, member.E164, 2);
        var verify = await Client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest { PanAccessToken = member.AccessToken, SessionToken = "update-credential", Code = code });

        var address = Mailboxes.NewAddress();
        await Client.UpdateCredentialAsync(new UpdateCredentialRequest { PanAuthToken = member.AuthToken, VerifyToken = verify.VerifyToken, Email = address });

        Assert.NotNull(SmtpInbox.CodeOf(await mail.MailAsync(address)));
        var stored = await mail.DbAsync(db => db.Members.Where(m => m.Uid == member.Uid).Select(m => new { m.Email, m.EmailVerified }).FirstAsync());
        Assert.Equal((address, false), (stored.Email, stored.EmailVerified));
    }

    [Fact]
    public async Task Mail_IsInTheMembersLanguage()
    {
        // Taiwanese numbers register members in zh-TW.
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, address);
        Assert.Contains("確認", (await mail.MailAsync(address)).Subject, StringComparison.Ordinal);

        var english = await mail.RegisterAsync();
        await mail.DbAsync(db => db.Members.Where(m => m.Uid == english.Uid).ExecuteUpdateAsync(u => u.SetProperty(m => m.Locale, "en")));
        var other = Mailboxes.NewAddress();
        await mail.SetEmailAsync(english, other);
        var message = await mail.MailAsync(other);
        Assert.Equal("Confirm your email address", message.Subject);
        Assert.Contains($"Hi {english.Name},", message.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetMemberEmail_TakenByAnotherMemberInAnyCase_IsEmailExists_AndSendsNothing()
    {
        var owner = await mail.RegisterWithEmailAsync();
        var other = await mail.RegisterAsync();
        var sameInOtherCase = owner.Email!.ToUpperInvariant();
        var proof = await mail.ProofAsync(other);
        await Errors.ExpectAsync(
            () => Client.SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = other.AccessToken, Email = sameInOtherCase, VerifyToken = proof }).ResponseAsync,
            StatusCode.AlreadyExists, "ErrSetMemberEmail.EMAIL_EXISTS");
        Assert.Empty(mail.Smtp.MessagesTo(sameInOtherCase).Skip(1));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-an-email")]
    [InlineData("Someone <a@example.com>")]
    [InlineData("a@@example.com")]
    [InlineData("a@localhost")]
    [InlineData("a..b@example.com")]
    public async Task SetMemberEmail_BadAddress_IsInvalidArgumentNamingEmail(string email)
    {
        var member = await mail.RegisterAsync();
        var ex = await Errors.ExpectAsync(
            () => Client.SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = member.AccessToken, Email = email }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("email", ex.BadRequest()!.FieldViolations.Single().Field);
    }

    [Theory]
    [InlineData("https://evil.example.net/")]
    [InlineData("https://app.example.com.evil.net/")]
    [InlineData("javascript:alert(1)")]
    [InlineData("/relative")]
    [InlineData("https://user@app.example.com/")]
    public async Task SetMemberEmail_RedirectOffTheAllowList_IsInvalidArgumentNamingRedirect(string redirect)
    {
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        var ex = await Errors.ExpectAsync(
            () => Client.SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = member.AccessToken, Email = address, Redirect = redirect }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("redirect", ex.BadRequest()!.FieldViolations.Single().Field);
        Assert.Equal(0, mail.Count(address));
    }

    [Fact]
    public async Task SetMemberEmail_WithABadToken_IsFailed()
    {
        await Errors.ExpectAsync(
            () => Client.SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = "nope", Email = Mailboxes.NewAddress() }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrSetMemberEmail.FAILED");
    }

    [Fact]
    public async Task SetMemberEmail_WhenAVerifiedEmailExists_IsFailed_UseUpdateCredential()
    {
        var member = await mail.RegisterWithEmailAsync();
        await Errors.ExpectAsync(
            () => Client.SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = member.AccessToken, Email = Mailboxes.NewAddress() }).ResponseAsync,
            StatusCode.FailedPrecondition, "ErrSetMemberEmail.FAILED");
        // The same address again changes nothing.
        await mail.SetEmailAsync(member, member.Email!);
        Assert.True(await mail.IsVerifiedAsync(member.Uid));
    }

    [Fact]
    public async Task SetMemberEmail_ReplacingAnUnverifiedEmail_KillsTheOldCode()
    {
        var member = await mail.RegisterAsync();
        var first = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, first);
        var oldCode = SmtpInbox.CodeOf(await mail.MailAsync(first));
        var second = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, second);
        await Errors.ExpectAsync(() => Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = oldCode }).ResponseAsync,
            StatusCode.InvalidArgument, "VerifyEmailCodeResponse.ErrCodeInvalid");
        await Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(await mail.MailAsync(second)) });
        Assert.True(await mail.IsVerifiedAsync(member.Uid));
    }

    [Fact]
    public async Task VerifyEmailCode_WrongEmptyOrUsedCode_IsCodeInvalid()
    {
        await Errors.ExpectAsync(() => Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = "" }).ResponseAsync,
            StatusCode.InvalidArgument, "VerifyEmailCodeResponse.ErrCodeInvalid");
        await Errors.ExpectAsync(() => Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = "ABCDE-FGHJK" }).ResponseAsync,
            StatusCode.InvalidArgument, "VerifyEmailCodeResponse.ErrCodeInvalid");
        await Errors.ExpectAsync(() => Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = new string('x', 5000) }).ResponseAsync,
            StatusCode.InvalidArgument, "VerifyEmailCodeResponse.ErrCodeInvalid");

        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, address);
        var code = SmtpInbox.CodeOf(await mail.MailAsync(address));
        await Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = code });
        await Errors.ExpectAsync(() => Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = code }).ResponseAsync,
            StatusCode.InvalidArgument, "VerifyEmailCodeResponse.ErrCodeInvalid");
    }

    [Fact]
    public async Task VerifyEmailCode_TenParallelSubmissions_ExactlyOneWins()
    {
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, address);
        var code = SmtpInbox.CodeOf(await mail.MailAsync(address));
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            PhoneFlows.Phones.StatusOf(() => Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = code }).ResponseAsync)));
        Assert.Equal(1, results.Count(r => r == StatusCode.OK));
    }

    [Fact]
    public async Task SendEmailVerification_ResendsANewCode_RespectsTheCooldown_AndTheOldCodeDies()
    {
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, address);
        var first = SmtpInbox.CodeOf(await mail.MailAsync(address));

        var ex = await Errors.ExpectAsync(
            () => Client.SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken }).ResponseAsync,
            StatusCode.ResourceExhausted, "SendEmailVerificationResponse.ErrReachSendLimit");
        Assert.Equal("60", ex.Info().Metadata["retry_after_seconds"]);
        Assert.Equal(1, mail.Count(address));

        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        await Client.SendEmailVerificationAsync(new SendEmailVerificationRequest
        {
            PanAccessToken = member.AccessToken, Uid = (int)member.Uid, Redirect = EmailFixture.AllowedRedirect,
        });
        var second = SmtpInbox.CodeOf(await mail.MailAsync(address, 2));
        Assert.NotEqual(first, second);
        await Errors.ExpectAsync(() => Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = first }).ResponseAsync,
            StatusCode.InvalidArgument, "VerifyEmailCodeResponse.ErrCodeInvalid");
        await Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = second });
    }

    [Fact]
    public async Task SendEmailVerification_HourlyCapPerAddress_IsReachSendLimit()
    {
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, address);
        for (var i = 0; i < 4; i++)
        {
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
            await Client.SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken });
        }

        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        await Errors.ExpectAsync(
            () => Client.SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken }).ResponseAsync,
            StatusCode.ResourceExhausted, "SendEmailVerificationResponse.ErrReachSendLimit");
        await mail.MailAsync(address, 5);
        Assert.Equal(5, mail.Count(address));
    }

    /// <summary>
    /// Two nodes on one database count one address's sends together (SECURITY 8): the cool-down after a send through one
    /// node holds on the other, and the hourly cap reached through alternating nodes refuses on either.
    /// </summary>
    [Fact]
    public async Task TwoNodes_TheCooldownAndTheHourlyCapPerAddress_ReachedThroughOne_RefuseOnTheOther()
    {
        await using var other = await fixture.StartNodeWithAsync(new Dictionary<string, string?>());
        var nodes = new[] { Client, new MemberServiceV2.MemberServiceV2Client(other.Grpc) };
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, address, client: nodes[1]);
        await mail.MailAsync(address);
        var cooled = await Errors.ExpectAsync(
            () => nodes[0].SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken }).ResponseAsync,
            StatusCode.ResourceExhausted, "SendEmailVerificationResponse.ErrReachSendLimit");
        Assert.Equal("60", cooled.Info().Metadata["retry_after_seconds"]);

        for (var i = 0; i < 4; i++)
        {
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
            await nodes[i % 2].SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken });
        }

        foreach (var node in nodes)
        {
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
            await Errors.ExpectAsync(
                () => node.SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken }).ResponseAsync,
                StatusCode.ResourceExhausted, "SendEmailVerificationResponse.ErrReachSendLimit");
        }

        await mail.MailAsync(address, 5);
        Assert.Equal(5, mail.Count(address));
    }

    /// <summary>The per-account hourly cap (SECURITY 8), reached through two nodes taking turns, refuses on either.</summary>
    [Fact]
    public async Task TwoNodes_TheHourlyCapPerAccount_ReachedThroughOne_RefusesOnTheOther()
    {
        var caps = new Dictionary<string, string?> { ["Pan:Email:Limits:PerMemberPerHour"] = "3", ["Pan:Email:Limits:PerTargetPerHour"] = "100" };
        await using var first = await fixture.StartNodeWithAsync(caps);
        await using var second = await fixture.StartNodeWithAsync(caps);
        var nodes = new[] { new MemberServiceV2.MemberServiceV2Client(first.Grpc), new MemberServiceV2.MemberServiceV2Client(second.Grpc) };
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, address, client: nodes[0]);
        for (var i = 1; i < 3; i++)
        {
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
            await nodes[i % 2].SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken });
        }

        foreach (var node in nodes)
        {
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
            var capped = await Errors.ExpectAsync(
                () => node.SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken }).ResponseAsync,
                StatusCode.ResourceExhausted, "SendEmailVerificationResponse.ErrReachSendLimit");
            Assert.Equal("3600", capped.Info().Metadata["retry_after_seconds"]);
        }

        await mail.MailAsync(address, 3);
        Assert.Equal(3, mail.Count(address));
    }

    [Fact]
    public async Task SendEmailVerification_Errors()
    {
        var member = await mail.RegisterAsync();
        await Errors.ExpectAsync(
            () => Client.SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = "bad" }).ResponseAsync,
            StatusCode.Unauthenticated, "SendEmailVerificationResponse.ErrFailed");
        await Errors.ExpectAsync(
            () => Client.SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken }).ResponseAsync,
            StatusCode.FailedPrecondition, "SendEmailVerificationResponse.ErrFailed");
        await Errors.ExpectAsync(
            () => Client.SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken, Uid = (int)member.Uid + 1 }).ResponseAsync,
            StatusCode.PermissionDenied, "SendEmailVerificationResponse.ErrFailed");
        var ex = await Errors.ExpectAsync(
            () => Client.SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken, Redirect = "https://evil.example.net/" }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("redirect", ex.BadRequest()!.FieldViolations.Single().Field);
    }

    [Fact]
    public async Task EmailChanges_OfAVerifiedEmail_NotifiesThePreviousAddress_AndAsksToVerifyTheNewOne()
    {
        var member = await mail.RegisterWithEmailAsync();
        var other = await mail.RegisterAsync();
        var next = Mailboxes.NewAddress();
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var changes = scope.ServiceProvider.GetRequiredService<EmailChanges>();
            // The caller's proof stands for a verify token it spends (UpdateCredential's and SetMemberEmail's).
            Func<CancellationToken, Task<bool>> proof = _ => Task.FromResult(true);
            Assert.Equal(EmailChangeResult.InvalidEmail, await changes.RequestAsync(member.Uid, "nope", null, proof, CancellationToken.None));
            Assert.Equal(EmailChangeResult.RedirectNotAllowed, await changes.RequestAsync(member.Uid, next, "https://evil.example.net/", proof, CancellationToken.None));
            Assert.Equal(EmailChangeResult.Taken, await changes.RequestAsync(other.Uid, member.Email!.ToUpperInvariant(), null, proof, CancellationToken.None));
            Assert.Equal(EmailChangeResult.ProofRefused, await changes.RequestAsync(member.Uid, next, EmailFixture.AllowedRedirect, _ => Task.FromResult(false), CancellationToken.None));
            Assert.Equal(EmailChangeResult.Sent, await changes.RequestAsync(member.Uid, next, EmailFixture.AllowedRedirect, proof, CancellationToken.None));
        }

        var notice = await mail.MailAsync(member.Email!, 2);
        Assert.Contains("變更", notice.Subject, StringComparison.Ordinal);
        Assert.Equal(string.Empty, SmtpInbox.CodeOf(notice));
        Assert.False(await mail.IsVerifiedAsync(member.Uid));
        await Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(await mail.MailAsync(next)) });
        Assert.True(await mail.IsVerifiedAsync(member.Uid));
    }

    [Fact]
    public async Task EmailChanges_ForAMemberDeletedAfterItsTokenWasChecked_AnswersMemberGone_AndMailsNothing()
    {
        // What a caller meets when the deletion commits between its token check and the plan's read of the member (on
        // SQLite it can land there): the member is gone, which each RPC answers as it answers a gone member.
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await using (var deletion = await UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, member.Uid))
        {
            await deletion.CommitAsync();
        }

        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var changes = scope.ServiceProvider.GetRequiredService<EmailChanges>();
            Assert.Equal(EmailChangeResult.MemberGone, await changes.RequestAsync(member.Uid, address, null, _ => Task.FromResult(true), CancellationToken.None));
        }

        await NothingRecordedAsync(member.Uid, address);
    }

    [Fact]
    public async Task SetMemberEmail_TenMembersSettingOneAddressAtOnce_AllHoldItUnverified()
    {
        await using var node = await fixture.StartNodeWithAsync(new Dictionary<string, string?>
        {
            ["Pan:Email:Limits:CooldownSeconds"] = "0",
            ["Pan:Email:Limits:PerTargetPerHour"] = "1000",
        });
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var members = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => mail.RegisterAsync()));
        var proofs = await Task.WhenAll(members.Select(mail.ProofAsync));
        var address = Mailboxes.NewAddress();
        var results = await Task.WhenAll(members.Select((m, i) => PhoneFlows.Phones.StatusOf(() =>
            client.SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = m.AccessToken, Email = address, VerifyToken = proofs[i] }).ResponseAsync)));
        // An unverified address reserves nothing; who owns it is decided by verification (EmailSquattingBehaviour).
        Assert.All(results, r => Assert.Equal(StatusCode.OK, r));
        var key = address.ToLowerInvariant();
        Assert.Equal(10, await mail.DbAsync(db => db.Members.CountAsync(m => m.EmailKey == key && !m.EmailVerified)));
    }

    [Fact]
    public async Task VerifyEmailCode_AfterTenMinutes_IsCodeInvalid()
    {
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, address);
        var code = SmtpInbox.CodeOf(await mail.MailAsync(address));
        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        await Errors.ExpectAsync(() => Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = code }).ResponseAsync,
            StatusCode.InvalidArgument, "VerifyEmailCodeResponse.ErrCodeInvalid");
        Assert.False(await mail.IsVerifiedAsync(member.Uid));
    }

    private async Task NothingRecordedAsync(long uid, string address)
    {
        var left = await mail.DbAsync(db => db.Members.AsNoTracking().Where(m => m.Uid == uid).Select(m => new { m.Email, m.Deleted }).SingleAsync());
        Assert.NotNull(left.Deleted);
        Assert.Null(left.Email);
        Assert.False(await mail.DbAsync(db => db.Set<EmailCode>().AnyAsync(c => c.Uid == uid)));
        Assert.Equal(0, mail.Count(address));
    }
}

public sealed class EmailVerificationBehaviour_Sqlite(SqliteEmailFixture f) : EmailVerificationBehaviour<SqliteEmailFixture>(f);

public sealed class EmailVerificationBehaviour_Postgres(PostgresEmailFixture f) : EmailVerificationBehaviour<PostgresEmailFixture>(f);
