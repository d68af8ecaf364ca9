using Google.Protobuf;
using Grpc.Core;
using Pan.General.Member;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Recovery;

/// <summary>Password reset by email: AuthResetVerifyEmail and AuthResetVerifyEmailCode, with mail read from a real SMTP server.</summary>
public abstract class EmailRecoveryBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : EmailFixture
{
    private readonly Mailboxes mail = new(fixture);

    private MemberServiceV2.MemberServiceV2Client Client => mail.Client;

    [Fact]
    public async Task ResetRequest_ForAMember_MailsACodeALinkAndTheClientsPage_AndTheCodeGivesAResetToken()
    {
        var member = await mail.RegisterWithEmailAsync();
        await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest
        {
            DisplayName = member.Name.ToUpperInvariant(),
            Email = member.Email!.ToLowerInvariant(),
            RedirectEmail = "https://app.example.com/enter-code",
            RedirectSuccess = EmailFixture.AllowedRedirect,
        });
        var message = await mail.MailAsync(member.Email!, 2);
        Assert.Contains("密碼", message.Subject, StringComparison.Ordinal);
        var link = SmtpInbox.LinkOf(message, "/account/reset-password");
        Assert.Equal(fixture.Server.HttpUri.Authority, link.Authority);
        Assert.Contains("https://app.example.com/enter-code", message.TextBody, StringComparison.Ordinal);

        var reset = await Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(message) });
        Assert.Equal(43, reset.AuthResetToken.Length);
        await Errors.ExpectAsync(
            () => Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(message) }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetVerifyEmailCodeResponse.ErrCodeInvalid");
    }

    [Fact]
    public async Task ResetRequest_RevealsNothing_SameAnswerAndNothingSentWithoutAMatch()
    {
        var member = await mail.RegisterWithEmailAsync();
        var unverified = await mail.RegisterAsync();
        var unverifiedAddress = Mailboxes.NewAddress();
        await mail.SetEmailAsync(unverified, unverifiedAddress);
        var unknownAddress = Mailboxes.NewAddress();

        var answers = new List<byte[]>();
        foreach (var (name, email) in new[]
        {
            (member.Name, member.Email!),
            ("someone-else", member.Email!),
            (member.Name, unknownAddress),
            (unverified.Name, unverifiedAddress),
        })
        {
            // Why: the cool-down counts requests per address, matched or not; step past it.
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
            var call = Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = name, Email = email });
            answers.Add((await call.ResponseAsync).ToByteArray());
            Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        }

        Assert.All(answers, a => Assert.Equal(answers[0], a));
        await mail.MailAsync(member.Email!, 2);
        await Task.Delay(300);
        Assert.Equal(2, mail.Count(member.Email!));
        Assert.Equal(0, mail.Count(unknownAddress));
        Assert.Equal(1, mail.Count(unverifiedAddress));
    }

    [Fact]
    public async Task ResetRequest_Cooldown_IsTheSameForKnownAndUnknownAddresses()
    {
        var member = await mail.RegisterWithEmailAsync();
        var unknown = Mailboxes.NewAddress();
        var retry = new List<string>();
        foreach (var email in new[] { member.Email!, unknown })
        {
            await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = email });
            var ex = await Errors.ExpectAsync(
                () => Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = email }).ResponseAsync,
                StatusCode.ResourceExhausted, "AuthResetVerifyEmailResponse.ErrReachSendLimit");
            retry.Add(ex.Info().Metadata["retry_after_seconds"]);
        }

        Assert.Equal(retry[0], retry[1]);
    }

    [Fact]
    public async Task ResetRequest_RequiredAndInvalidFields()
    {
        var ex = await Errors.ExpectAsync(() => Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = "x" }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetVerifyEmailResponse.ErrEmailRequired");
        Assert.Equal("email", ex.BadRequest()!.FieldViolations.Single().Field);
        ex = await Errors.ExpectAsync(() => Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { Email = "a@example.com" }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetVerifyEmailResponse.ErrDisplayNameRequired");
        Assert.Equal("display_name", ex.BadRequest()!.FieldViolations.Single().Field);

        foreach (var (request, field) in new[]
        {
            (new AuthResetVerifyEmailRequest { DisplayName = "x", Email = "not an email" }, "email"),
            (new AuthResetVerifyEmailRequest { DisplayName = "x", Email = "a@example.com", RedirectEmail = "https://evil.example.net/" }, "redirect_email"),
            (new AuthResetVerifyEmailRequest { DisplayName = "x", Email = "a@example.com", RedirectSuccess = "http://a.trusted.test.evil.net/" }, "redirect_success"),
            (new AuthResetVerifyEmailRequest { DisplayName = new string('x', 65), Email = "a@example.com" }, "display_name"),
        })
        {
            ex = await Errors.ExpectAsync(() => Client.AuthResetVerifyEmailAsync(request).ResponseAsync, StatusCode.InvalidArgument, "INVALID_ARGUMENT");
            Assert.Equal(field, ex.BadRequest()!.FieldViolations.Single().Field);
        }

        // A subdomain of *.trusted.test is allowed.
        await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = "x", Email = Mailboxes.NewAddress(), RedirectSuccess = "https://a.b.trusted.test/ok" });
    }

    [Fact]
    public async Task ResetCode_WrongEmptyOrOfAnotherPurpose_IsCodeInvalid()
    {
        await Errors.ExpectAsync(() => Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = "" }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetVerifyEmailCodeResponse.ErrCodeInvalid");
        await Errors.ExpectAsync(() => Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = "23456-789AB" }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetVerifyEmailCodeResponse.ErrCodeInvalid");

        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, address);
        var verificationCode = SmtpInbox.CodeOf(await mail.MailAsync(address));
        await Errors.ExpectAsync(() => Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = verificationCode }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetVerifyEmailCodeResponse.ErrCodeInvalid");
    }

    [Fact]
    public async Task ResetRequest_WithCaptchaOn_NeedsAnAcceptedToken()
    {
        await using var recaptcha = await FakeRecaptchaServer.StartAsync();
        await using var node = await fixture.StartNodeWithAsync(recaptcha.Settings("always"));
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var member = await mail.RegisterWithEmailAsync();

        foreach (var token in new[] { "", "forged" })
        {
            await Errors.ExpectAsync(
                () => client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = member.Email!, RecaptchaToken = token }).ResponseAsync,
                StatusCode.PermissionDenied, "AuthResetVerifyEmailResponse.ErrSessionInvalid");
        }

        Assert.Equal(1, mail.Count(member.Email!));
        await client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = member.Email!, RecaptchaToken = recaptcha.Accept() });
        await mail.MailAsync(member.Email!, 2);
    }

    /// <summary>
    /// AuthResetVerifyEmailCode racing the member's deletion: on PostgreSQL the deletion runs while the call is about to
    /// store its auth_reset_token. The call comes first, so it gets its token; the deletion must then take it away.
    /// </summary>
    [Fact]
    public async Task ResetCode_WhenTheMembersDeletionRunsBeforeItsTokenIsStored_LeavesNoAuthResetTokenOfTheMember()
    {
        var member = await mail.RegisterWithEmailAsync();
        await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = member.Email! });
        var code = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!, 2));

        var status = await Deletion.DeletionRaces.DeletionBeforeTheVerifyTokenIsStoredAsync(fixture.Server, fixture.Database, member.Uid,
            () => Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = code }).ResponseAsync);

        Assert.Equal(StatusCode.OK, status);
        Assert.Equal(0, await Deletion.DeletionRaces.VerifyTokensAsync(fixture.Server, member.Uid));
    }

    /// <summary>SECURITY 21: when the auth_reset_token cannot be stored, the mailed code is not spent either.</summary>
    [Fact]
    public async Task ResetCode_WhenStoringTheAuthResetTokenFails_KeepsTheCode_AndTheSameCodeThenGivesAToken()
    {
        var member = await mail.RegisterWithEmailAsync();
        await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = member.Email! });
        var code = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!, 2));
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "verify_tokens", TriggeredWrite.Insert, member.Uid))
        {
            await Foundation.HalfWrittenChecks.ExpectInternalAsync(() => Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = code }).ResponseAsync);
        }

        var reset = await Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = code });
        Assert.Equal(43, reset.AuthResetToken.Length);
    }
}

public sealed class EmailRecoveryBehaviour_Sqlite(SqliteEmailFixture f) : EmailRecoveryBehaviour<SqliteEmailFixture>(f);

public sealed class EmailRecoveryBehaviour_Postgres(PostgresEmailFixture f) : EmailRecoveryBehaviour<PostgresEmailFixture>(f);
