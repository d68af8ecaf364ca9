using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.PhaseSessions;
using Pan.General.Member;
using Pan.Server.BruteForce;
using Pan.Tests.Deletion;
using Pan.Tests.Infrastructure;
using LoginPhase = Pan.General.Member.LoginRequest.Types.Phase;
using LoginType = Pan.General.Member.LoginRequest.Types.LoginType;
using ResponseType = Pan.General.Member.LoginResponse.Types.LoginType;
using CodeResult = Pan.General.Member.LoginResponse.Types.CodeResult;

namespace Pan.Tests.Email;

/// <summary>Sign-in with LOGIN_TYPE_EMAIL (password) and LOGIN_TYPE_EMAIL_OTC (mailed code), with the security-question challenge.</summary>
public abstract class EmailLoginBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : EmailFixture
{
    private readonly Mailboxes mail = new(fixture);

    private MemberServiceV2.MemberServiceV2Client Client => mail.Client;

    [Fact]
    public async Task CheckExistence_UnknownOrBadEmail()
    {
        foreach (var type in new[] { LoginType.Email, LoginType.EmailOtc })
        {
            await Errors.ExpectAsync(() => Client.LoginAsync(Start(type, Mailboxes.NewAddress())).ResponseAsync, StatusCode.NotFound, "ErrLogin.NOT_FOUND");
            var ex = await Errors.ExpectAsync(() => Client.LoginAsync(Start(type, "a@@b")).ResponseAsync, StatusCode.InvalidArgument, "INVALID_ARGUMENT");
            Assert.Equal("phase_check_existence_value", ex.BadRequest()!.FieldViolations.Single().Field);
        }

        var bad = Start(LoginType.EmailOtc, Mailboxes.NewAddress());
        bad.LinkToInput = "https://evil.example.net/code";
        var violation = await Errors.ExpectAsync(() => Client.LoginAsync(bad).ResponseAsync, StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("link_to_input", violation.BadRequest()!.FieldViolations.Single().Field);
    }

    [Fact]
    public async Task CheckExistence_WithCaptchaOn_AnswersTheSameForKnownAndUnknownEmails_UntilTheCaptchaPasses()
    {
        await using var recaptcha = await FakeRecaptchaServer.StartAsync();
        await using var node = await fixture.StartNodeWithAsync(recaptcha.Settings("always"));
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var member = await mail.RegisterWithEmailAsync();

        var known = await Errors.ExpectAsync(() => client.LoginAsync(Start(LoginType.Email, member.Email!)).ResponseAsync,
            StatusCode.PermissionDenied, "ErrLogin.GENERAL_RECAPTCHA_FAILED");
        var unknown = await Errors.ExpectAsync(() => client.LoginAsync(Start(LoginType.Email, Mailboxes.NewAddress())).ResponseAsync,
            StatusCode.PermissionDenied, "ErrLogin.GENERAL_RECAPTCHA_FAILED");
        Assert.Equal(known.Status.Detail, unknown.Status.Detail);
        Assert.Equal(43, unknown.Info().Metadata["phase_session_token"].Length);

        // Once the captcha is passed, the unknown email's flow says so.
        await client.UnlockSessionTokenAsync(new UnlockSessionTokenRequest { PhaseSessionToken = unknown.Info().Metadata["phase_session_token"], PhaseSessionValid = recaptcha.Accept() });
        await Errors.ExpectAsync(
            () => client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, LoginType = LoginType.Email, PhaseSessionToken = unknown.Info().Metadata["phase_session_token"], PhaseInputCodeValue = "x" }).ResponseAsync,
            StatusCode.NotFound, "ErrLogin.NOT_FOUND");
    }

    [SeamFact]
    public async Task Email_PasswordSignIn_ByEmailOrDisplayName()
    {
        var member = await mail.RegisterWithEmailAsync();
        var password = Mailboxes.StrongPassword();
        await mail.SetCredentialsAsync(member.Uid, password);

        foreach (var identifier in new[] { member.Email!.ToUpperInvariant(), member.Name })
        {
            var start = await Client.LoginAsync(Start(LoginType.Email, identifier));
            Assert.Equal(LoginPhase.InputCode, start.NextPhase);
            Assert.Equal(ResponseType.Email, start.PhaseCheckExistenceLoginType);
            Assert.False(start.PhaseCheckExistenceQuestion);

            var done = await Client.LoginAsync(Input(LoginType.Email, start.PhaseSessionToken, password));
            Assert.Equal(LoginPhase.Done, done.NextPhase);
            Assert.Equal(CodeResult.Ok, done.PhaseInputCodeResult);
            var access = await mail.Phones.AccessTokenAsync(done.PhaseDoneAuthToken);
            Assert.Equal(member.Uid, (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access })).Info.Uid);

            await Errors.ExpectAsync(() => Client.LoginAsync(Input(LoginType.Email, start.PhaseSessionToken, password)).ResponseAsync,
                StatusCode.Unauthenticated, "ErrLogin.SESSION_INVALID");
        }
    }

    [SeamFact]
    public async Task Email_WrongPasswordAndLockedAccount_AnswerAlike()
    {
        var member = await mail.RegisterWithEmailAsync();
        var password = Mailboxes.StrongPassword();
        await mail.SetCredentialsAsync(member.Uid, password);
        var start = await Client.LoginAsync(Start(LoginType.Email, member.Email!));
        var wrong = await Errors.ExpectAsync(() => Client.LoginAsync(Input(LoginType.Email, start.PhaseSessionToken, password + "x")).ResponseAsync,
            StatusCode.InvalidArgument, "ErrLogin.CODE_INVALID");

        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var failures = scope.ServiceProvider.GetRequiredService<FailureCounter>();
            for (var i = 0; i < 100; i++)
            {
                await failures.RecordFailureAsync(member.Uid, CancellationToken.None);
            }
        }

        var locked = await Errors.ExpectAsync(() => Client.LoginAsync(Input(LoginType.Email, start.PhaseSessionToken, password)).ResponseAsync,
            StatusCode.InvalidArgument, "ErrLogin.CODE_INVALID");
        Assert.Equal(wrong.Status.Detail, locked.Status.Detail);

        await mail.ClearFailuresAsync(member.Uid);
        Assert.Equal(LoginPhase.Done, (await Client.LoginAsync(Input(LoginType.Email, start.PhaseSessionToken, password))).NextPhase);
    }

    [SeamFact]
    public async Task Email_WithASecurityQuestion_NeedsTheAnswer()
    {
        var member = await mail.RegisterWithEmailAsync();
        var password = Mailboxes.StrongPassword();
        await mail.SetCredentialsAsync(member.Uid, password, "First pet?", "Rex");
        var start = await Client.LoginAsync(Start(LoginType.Email, member.Email!));
        Assert.True(start.PhaseCheckExistenceQuestion);

        var missing = await Errors.ExpectAsync(() => Client.LoginAsync(Input(LoginType.Email, start.PhaseSessionToken, password)).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("phase_input_code_ques_value", missing.BadRequest()!.FieldViolations.Single().Field);
        await Errors.ExpectAsync(() => Client.LoginAsync(Input(LoginType.Email, start.PhaseSessionToken, password, "Max")).ResponseAsync,
            StatusCode.InvalidArgument, "ErrLogin.CODE_INVALID");
        await mail.ClearFailuresAsync(member.Uid);

        var done = await Client.LoginAsync(Input(LoginType.Email, start.PhaseSessionToken, password, " rex "));
        Assert.Equal(LoginPhase.Done, done.NextPhase);
        Assert.Equal(CodeResult.Ok, done.PhaseInputQuesResult);
    }

    [SeamFact]
    public async Task Email_RightPasswordWithWrongAnswers_CountsEveryWrongAnswerOnTheMember()
    {
        // Whoever knows the password must not get unlimited guesses at the answer: the password alone clears no streak.
        var member = await mail.RegisterWithEmailAsync();
        var password = Mailboxes.StrongPassword();
        await mail.SetCredentialsAsync(member.Uid, password, "First pet?", "Rex");
        var start = await Client.LoginAsync(Start(LoginType.Email, member.Email!));

        for (var i = 1; i <= 4; i++)
        {
            // Why the clock: past the free failures the member waits 1 s, 2 s, … between tries.
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(35));
            await Errors.ExpectAsync(() => Client.LoginAsync(Input(LoginType.Email, start.PhaseSessionToken, password, "Max" + i)).ResponseAsync,
                StatusCode.InvalidArgument, "ErrLogin.CODE_INVALID");
            Assert.Equal(i, await mail.FailuresAsync(member.Uid));
        }

        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(35));
        var done = await Client.LoginAsync(Input(LoginType.Email, start.PhaseSessionToken, password, "rex"));
        Assert.Equal(LoginPhase.Done, done.NextPhase);
        Assert.Equal(0, await mail.FailuresAsync(member.Uid));
    }

    [SeamFact]
    public async Task EmailOtc_ACodeMailedToAnAddressTheMemberThenMovedAwayFrom_SignsNobodyIn()
    {
        // The member moves its email elsewhere (say the old mailbox was lost) while a sign-in code mailed there is live.
        var member = await mail.RegisterWithEmailAsync();
        var start = await Client.LoginAsync(Start(LoginType.EmailOtc, member.Email!));
        var code = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!, 2));
        await Client.UpdateCredentialAsync(new UpdateCredentialRequest { PanAuthToken = member.AuthToken, VerifyToken = await mail.ProofAsync(member), Email = Mailboxes.NewAddress() });

        await Errors.ExpectAsync(() => Client.LoginAsync(Input(LoginType.EmailOtc, start.PhaseSessionToken, code)).ResponseAsync,
            StatusCode.Unauthenticated, "ErrLogin.SESSION_INVALID");
    }

    /// <summary>
    /// Two nodes on one database: an email sign-in started on one node (its code mailed from there) is finished with the
    /// code on the other; the flow is then over on both, and a second flow started on the other node ends on the first.
    /// </summary>
    [Fact]
    public async Task TwoNodes_EmailOtc_StartedOnOne_IsFinishedOnTheOther_AndTheSpentFlowIsRefusedOnBoth()
    {
        await using var other = await fixture.StartNodeWithAsync(new Dictionary<string, string?>());
        var onOther = new MemberServiceV2.MemberServiceV2Client(other.Grpc);
        var member = await mail.RegisterWithEmailAsync();

        var start = await Client.LoginAsync(Start(LoginType.EmailOtc, member.Email!));
        var code = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!, 2));
        var done = await onOther.LoginAsync(Input(LoginType.EmailOtc, start.PhaseSessionToken, code));
        Assert.Equal(LoginPhase.Done, done.NextPhase);
        Assert.NotEmpty(await new PhoneFlows.Phones(onOther, fixture.Inbox).AccessTokenAsync(done.PhaseDoneAuthToken));

        foreach (var client in new[] { Client, onOther })
        {
            await Errors.ExpectAsync(() => client.LoginAsync(Input(LoginType.EmailOtc, start.PhaseSessionToken, code)).ResponseAsync,
                StatusCode.Unauthenticated, "ErrLogin.SESSION_INVALID");
        }

        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        var again = await onOther.LoginAsync(Start(LoginType.EmailOtc, member.Email!));
        var second = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!, 3));
        Assert.Equal(LoginPhase.Done, (await Client.LoginAsync(Input(LoginType.EmailOtc, again.PhaseSessionToken, second))).NextPhase);
        await Errors.ExpectAsync(() => onOther.LoginAsync(Input(LoginType.EmailOtc, again.PhaseSessionToken, second)).ResponseAsync,
            StatusCode.Unauthenticated, "ErrLogin.SESSION_INVALID");
    }

    [SeamFact]
    public async Task EmailOtc_MailsACode_ResendsAfterTheCooldown_AndSignsIn()
    {
        var member = await mail.RegisterWithEmailAsync();
        var request = Start(LoginType.EmailOtc, member.Email!);
        request.LinkToInput = "https://app.example.com/login/code";
        var start = await Client.LoginAsync(request);
        Assert.Equal(ResponseType.EmailOtc, start.PhaseCheckExistenceLoginType);
        Assert.Equal(60, start.PhaseInputCodeTimeRemaining);
        var message = await mail.MailAsync(member.Email!, 2);
        var first = SmtpInbox.CodeOf(message);
        Assert.Matches(@"^\d{6}$", first);
        Assert.Contains("https://app.example.com/login/code", message.TextBody, StringComparison.Ordinal);

        var pending = await Errors.ExpectAsync(() => Client.LoginAsync(Input(LoginType.EmailOtc, start.PhaseSessionToken, "")).ResponseAsync,
            StatusCode.ResourceExhausted, "ErrLogin.CODE_PENDING");
        Assert.Equal("60", pending.Info().Metadata["retry_after_seconds"]);
        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        var resent = await Client.LoginAsync(Input(LoginType.EmailOtc, start.PhaseSessionToken, ""));
        Assert.Equal(CodeResult.Resent, resent.PhaseInputCodeResult);
        var second = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!, 3));

        if (first != second)
        {
            await Errors.ExpectAsync(() => Client.LoginAsync(Input(LoginType.EmailOtc, start.PhaseSessionToken, first)).ResponseAsync,
                StatusCode.InvalidArgument, "ErrLogin.CODE_INVALID");
            await mail.ClearFailuresAsync(member.Uid);
        }

        var done = await Client.LoginAsync(Input(LoginType.EmailOtc, start.PhaseSessionToken, second));
        Assert.Equal(LoginPhase.Done, done.NextPhase);
        await mail.Phones.AccessTokenAsync(done.PhaseDoneAuthToken);
    }

    [SeamFact]
    public async Task EmailOtc_WhileTheMembersDeletionIsUncommitted_AnswersNotFound_AndMailsNoCode()
    {
        // The step finds the member by its address while the deletion's transaction is still open (on PostgreSQL it
        // still looks live); the code it then issues must wait for the deletion and find no live member.
        var member = await mail.RegisterWithEmailAsync();
        Task<LoginResponse> call;
        await using (var deletion = await UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, member.Uid))
        {
            call = Task.Run(() => Client.LoginAsync(Start(LoginType.EmailOtc, member.Email!)).ResponseAsync);
            Assert.True(await deletion.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
            await deletion.CommitAsync();
        }

        // What CHECK_EXISTENCE answers for an address no member has.
        await Errors.ExpectAsync(() => call, StatusCode.NotFound, "ErrLogin.NOT_FOUND");
        Assert.Equal(1, mail.Count(member.Email!));
        Assert.False(await mail.DbAsync(db => db.Set<PhaseSession>().AnyAsync(s => s.Uid == member.Uid)));
    }

    [SeamFact]
    public async Task EmailOtc_TriesAtADeadCode_AreRefused_AndNotCountedOnTheMember()
    {
        var member = await mail.RegisterWithEmailAsync();
        var start = await Client.LoginAsync(Start(LoginType.EmailOtc, member.Email!));
        var code = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!, 2));
        var wrong = code == "000000" ? "111111" : "000000";

        // Why the clock: past the free failures the member waits 1 s, 2 s, … between tries; 35 s outlasts every wait
        // these tries can earn, and eight of them stay inside the code's 10 minutes.
        for (var i = 0; i < 5; i++)
        {
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(35));
            await Errors.ExpectAsync(() => Client.LoginAsync(Input(LoginType.EmailOtc, start.PhaseSessionToken, wrong)).ResponseAsync,
                StatusCode.InvalidArgument, "ErrLogin.CODE_INVALID");
        }

        Assert.Equal(5, await mail.FailuresAsync(member.Uid));
        foreach (var late in new[] { wrong, code })
        {
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(35));
            await Errors.ExpectAsync(() => Client.LoginAsync(Input(LoginType.EmailOtc, start.PhaseSessionToken, late)).ResponseAsync,
                StatusCode.InvalidArgument, "ErrLogin.CODE_INVALID");
        }

        Assert.Equal(5, await mail.FailuresAsync(member.Uid));
    }

    [SeamFact]
    public async Task EmailOtc_NeedsAVerifiedEmail_AndAFlowOfItsOwnType()
    {
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(member, address);
        await Errors.ExpectAsync(() => Client.LoginAsync(Start(LoginType.EmailOtc, address)).ResponseAsync, StatusCode.NotFound, "ErrLogin.NOT_FOUND");

        var verified = await mail.RegisterWithEmailAsync();
        var start = await Client.LoginAsync(Start(LoginType.EmailOtc, verified.Email!));
        var code = SmtpInbox.CodeOf(await mail.MailAsync(verified.Email!, 2));
        await Errors.ExpectAsync(() => Client.LoginAsync(Input(LoginType.Email, start.PhaseSessionToken, code)).ResponseAsync,
            StatusCode.Unauthenticated, "ErrLogin.SESSION_INVALID");
        await Errors.ExpectAsync(() => Client.LoginAsync(Input(LoginType.Phone, start.PhaseSessionToken, code)).ResponseAsync,
            StatusCode.Unauthenticated, "ErrLogin.SESSION_INVALID");
        Assert.Equal(LoginPhase.Done, (await Client.LoginAsync(Input(LoginType.EmailOtc, start.PhaseSessionToken, code))).NextPhase);
    }

    [SeamFact]
    public async Task EmailOtc_WithASecurityQuestion_NeedsTheAnswerToo()
    {
        var member = await mail.RegisterWithEmailAsync();
        await mail.SetCredentialsAsync(member.Uid, Mailboxes.StrongPassword(), "First pet?", "Rex");
        var start = await Client.LoginAsync(Start(LoginType.EmailOtc, member.Email!));
        Assert.True(start.PhaseCheckExistenceQuestion);
        var code = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!, 2));
        await Errors.ExpectAsync(() => Client.LoginAsync(Input(LoginType.EmailOtc, start.PhaseSessionToken, code)).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        var done = await Client.LoginAsync(Input(LoginType.EmailOtc, start.PhaseSessionToken, code, "REX"));
        Assert.Equal(CodeResult.Ok, done.PhaseInputQuesResult);
    }

    [SeamFact]
    public async Task EmailSignIn_AuthToken_OpensOnlyTheSignedInMember_NotThePhonesOtherMembers()
    {
        // The phone's default member has no email or password; a second member under the same phone has both.
        var owner = await mail.RegisterAsync();
        var sibling = (await Client.NewMemberAsync(new NewMemberRequest { AuthToken = owner.AuthToken, DisplayName = PhoneFlows.Phones.NewName(), AppId = "jkforum" })).Object;
        var siblingAccess = await mail.Phones.AccessTokenAsync(owner.AuthToken, sibling.ObjectId);
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(new TestMember(sibling.Uid, sibling.DisplayName, owner.E164, owner.AuthToken, siblingAccess, null), address);
        await Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(await mail.MailAsync(address)) });
        var password = Mailboxes.StrongPassword();
        await mail.SetCredentialsAsync(sibling.Uid, password);

        var byPassword = await Client.LoginAsync(Input(LoginType.Email, (await Client.LoginAsync(Start(LoginType.Email, address))).PhaseSessionToken, password));
        var otcStart = await Client.LoginAsync(Start(LoginType.EmailOtc, address));
        var byCode = await Client.LoginAsync(Input(LoginType.EmailOtc, otcStart.PhaseSessionToken, SmtpInbox.CodeOf(await mail.MailAsync(address, 2))));

        var ownerObjectId = (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = owner.AccessToken })).Info.ObjectId;
        foreach (var auth in new[] { byPassword.PhaseDoneAuthToken, byCode.PhaseDoneAuthToken })
        {
            // Knowing the member's password or mailbox proves that member, not the phone: the owner stays out of reach
            // (switching member needs SwitchMember's step-up), and an empty object_id is the signed-in member itself.
            var ex = await Errors.ExpectAsync(() => mail.Phones.AccessTokenAsync(auth, ownerObjectId),
                StatusCode.NotFound, "ErrAccessToken.FAILED");
            Assert.Equal("1001", ex.Info().Metadata["code"]);
            var implicitMember = await mail.Phones.AccessTokenAsync(auth);
            Assert.Equal(sibling.Uid, (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = implicitMember })).Info.Uid);
            var named = await mail.Phones.AccessTokenAsync(auth, sibling.ObjectId);
            Assert.Equal(sibling.Uid, (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = named })).Info.Uid);
        }

        // A phone sign-in's auth token still opens every member of the phone (the member chooser after the SMS code).
        Assert.NotEmpty(await mail.Phones.AccessTokenAsync(owner.AuthToken, sibling.ObjectId));
    }

    private static LoginRequest Start(LoginType type, string value) =>
        new() { Phase = LoginPhase.CheckExistence, LoginType = type, PhaseCheckExistenceValue = value };

    private static LoginRequest Input(LoginType type, string session, string value, string? answer = null) =>
        new() { Phase = LoginPhase.InputCode, LoginType = type, PhaseSessionToken = session, PhaseInputCodeValue = value, PhaseInputCodeQuesValue = answer ?? string.Empty };
}

public sealed class EmailLoginBehaviour_Sqlite(SqliteEmailFixture f) : EmailLoginBehaviour<SqliteEmailFixture>(f);

public sealed class EmailLoginBehaviour_Postgres(PostgresEmailFixture f) : EmailLoginBehaviour<PostgresEmailFixture>(f);
