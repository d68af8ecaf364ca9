using Google.Protobuf;
using Grpc.Core;
using Pan.General.Member;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Recovery;

/// <summary>Password reset by phone: AuthResetVerifyPhone and AuthResetVerifyPhoneCode, with SMS read from the webhook inbox.</summary>
public abstract class PhoneRecoveryBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : EmailFixture
{
    private readonly Mailboxes mail = new(fixture);

    private MemberServiceV2.MemberServiceV2Client Client => mail.Client;

    [Fact]
    public async Task ResetRequest_RevealsNothing_SameAnswerAndNoSmsWithoutAMatch()
    {
        var member = await mail.RegisterAsync();
        var (_, unknownPhone) = PhoneFlows.Phones.NewNumber();
        var answers = new List<byte[]>();
        foreach (var (name, phone) in new[] { (member.Name, member.E164), ("someone-else", member.E164), (member.Name, unknownPhone) })
        {
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
            answers.Add((await Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = name, Phone = phone })).ToByteArray());
        }

        Assert.All(answers, a => Assert.Equal(answers[0], a));
        var text = (await fixture.Inbox.WaitForMessageAsync(member.E164, 2, PhoneFlows.Phones.Wait)).Text;
        Assert.Contains("密碼重設", text, StringComparison.Ordinal);
        await Task.Delay(300);
        Assert.Equal(2, fixture.Inbox.MessagesTo(member.E164).Count);
        Assert.Empty(fixture.Inbox.MessagesTo(unknownPhone));
    }

    [Fact]
    public async Task ResetRequest_WithCaptchaOn_NeedsAnAcceptedToken_ElseSessionInvalidAndNoSms()
    {
        await using var recaptcha = await FakeRecaptchaServer.StartAsync();
        await using var node = await fixture.StartNodeWithAsync(recaptcha.Settings("always"));
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var member = await mail.RegisterAsync();
        var sent = fixture.Inbox.MessagesTo(member.E164).Count;

        foreach (var token in new[] { "", "forged" })
        {
            await Errors.ExpectAsync(
                () => client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = member.Name, Phone = member.E164, RecaptchaToken = token }).ResponseAsync,
                StatusCode.PermissionDenied, "AuthResetVerifyPhoneResponse.ErrSessionInvalid");
        }

        Assert.Equal(sent, fixture.Inbox.MessagesTo(member.E164).Count);
        await client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = member.Name, Phone = member.E164, RecaptchaToken = recaptcha.Accept() });
        await fixture.Inbox.WaitForMessageAsync(member.E164, sent + 1, PhoneFlows.Phones.Wait);
    }

    [Fact]
    public async Task ResetRequest_Cooldown_IsTheSameForKnownAndUnknownPhones()
    {
        var member = await mail.RegisterAsync();
        var (_, unknownPhone) = PhoneFlows.Phones.NewNumber();
        var retry = new List<string>();
        foreach (var phone in new[] { member.E164, unknownPhone })
        {
            await Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = member.Name, Phone = phone });
            var ex = await Errors.ExpectAsync(
                () => Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = member.Name, Phone = phone }).ResponseAsync,
                StatusCode.ResourceExhausted, "AuthResetVerifyPhoneResponse.ErrReachSendLimit");
            retry.Add(ex.Info().Metadata["retry_after_seconds"]);
        }

        Assert.Equal(retry[0], retry[1]);
    }

    [Theory]
    [InlineData("+886223456782")] // Taipei fixed line
    [InlineData("+886800000124")] // toll-free
    [InlineData("+886204123458")] // premium rate
    public async Task ResetRequest_NumberThatCannotReceiveSms_IsInvalidArgumentNamingThePhone_AndSendsNothing(string phone)
    {
        var before = fixture.Inbox.Requests;
        var ex = await Errors.ExpectAsync(() => Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { Phone = phone, DisplayName = "someone" }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");

        var violation = ex.BadRequest()!.FieldViolations.Single();
        Assert.Equal("phone", violation.Field);
        Assert.Contains("cannot receive SMS", violation.Description, StringComparison.Ordinal);
        Assert.Equal(before, fixture.Inbox.Requests);
    }

    [Fact]
    public async Task ResetRequest_RequiredAndInvalidFields()
    {
        var ex = await Errors.ExpectAsync(() => Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = "x" }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetVerifyPhoneResponse.ErrPhoneRequired");
        Assert.Equal("phone", ex.BadRequest()!.FieldViolations.Single().Field);
        ex = await Errors.ExpectAsync(() => Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { Phone = "+886912345678" }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetVerifyPhoneResponse.ErrDisplayNameRequired");
        Assert.Equal("display_name", ex.BadRequest()!.FieldViolations.Single().Field);
        ex = await Errors.ExpectAsync(() => Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { Phone = "0912345678", DisplayName = "x" }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("phone", ex.BadRequest()!.FieldViolations.Single().Field);

        await Errors.ExpectAsync(() => Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Phone = "+886912345678", DisplayName = "x" }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetVerifyPhoneCodeResponse.ErrCodeInvalid");
        ex = await Errors.ExpectAsync(() => Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = "123456", DisplayName = "x" }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("phone", ex.BadRequest()!.FieldViolations.Single().Field);
        ex = await Errors.ExpectAsync(() => Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = "123456", Phone = "+886912345678" }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("displayName", ex.BadRequest()!.FieldViolations.Single().Field);
    }

    [SeamFact]
    public async Task ResetCode_RightCodeGivesAToken_WrongOnesAreCodeInvalid_AndFiveKillIt()
    {
        var (member, code) = await ResetCodeAsync();
        var wrong = code == "000000" ? "111111" : "000000";
        await Errors.ExpectAsync(
            () => Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = wrong, Phone = member.E164, DisplayName = member.Name }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetVerifyPhoneCodeResponse.ErrCodeInvalid");
        await Errors.ExpectAsync(
            () => Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = code, Phone = member.E164, DisplayName = "someone-else" }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetVerifyPhoneCodeResponse.ErrCodeInvalid");

        // Why: the failure counter may slow the next try down (progressive delay).
        await mail.ClearFailuresAsync(member.Uid);
        var reset = await Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = code, Phone = member.E164, DisplayName = member.Name });
        Assert.Equal(43, reset.AuthResetToken.Length);

        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        await Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = member.Name, Phone = member.E164 });
        var second = await PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, member.E164, 3);
        var other = second == "000000" ? "111111" : "000000";
        for (var i = 0; i < 5; i++)
        {
            await mail.ClearFailuresAsync(member.Uid);
            await Errors.ExpectAsync(
                () => Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = other, Phone = member.E164, DisplayName = member.Name }).ResponseAsync,
                StatusCode.InvalidArgument, "AuthResetVerifyPhoneCodeResponse.ErrCodeInvalid");
        }

        await Errors.ExpectAsync(
            () => Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = second, Phone = member.E164, DisplayName = member.Name }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetVerifyPhoneCodeResponse.ErrCodeInvalid");
    }

    [SeamFact]
    public async Task ResetCode_TriesAtADeadCode_AreRefused_AndNotCountedOnTheMember()
    {
        var (member, code) = await ResetCodeAsync();
        var wrong = code == "000000" ? "111111" : "000000";
        AuthResetVerifyPhoneCodeRequest Input(string value) => new() { Code = value, Phone = member.E164, DisplayName = member.Name };

        // Why the clock: past the free failures the member waits 1 s, 2 s, … between tries; 35 s outlasts every wait
        // these tries can earn, and eight of them stay inside the code's 10 minutes.
        for (var i = 0; i < 5; i++)
        {
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(35));
            await Errors.ExpectAsync(() => Client.AuthResetVerifyPhoneCodeAsync(Input(wrong)).ResponseAsync,
                StatusCode.InvalidArgument, "AuthResetVerifyPhoneCodeResponse.ErrCodeInvalid");
        }

        Assert.Equal(5, await mail.FailuresAsync(member.Uid));
        foreach (var late in new[] { wrong, code })
        {
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(35));
            await Errors.ExpectAsync(() => Client.AuthResetVerifyPhoneCodeAsync(Input(late)).ResponseAsync,
                StatusCode.InvalidArgument, "AuthResetVerifyPhoneCodeResponse.ErrCodeInvalid");
        }

        Assert.Equal(5, await mail.FailuresAsync(member.Uid));
    }

    [SeamFact]
    public async Task ResetCode_TenParallelRightCodes_OneWins_AndTheLosersAreNotCountedAsFailures()
    {
        var (member, code) = await ResetCodeAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => PhoneFlows.Phones.StatusOf(() =>
            Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = code, Phone = member.E164, DisplayName = member.Name }).ResponseAsync)));
        Assert.Equal(1, results.Count(s => s == StatusCode.OK));
        Assert.All(results.Where(s => s != StatusCode.OK), s => Assert.Equal(StatusCode.InvalidArgument, s));
        Assert.Equal(0, await mail.FailuresAsync(member.Uid));
    }

    /// <summary>
    /// A reset code texted before an operator blocked the number buys no auth_reset_token after it (PHONE_BLOCKED, for a
    /// display name that matches and for one that does not alike) and is not spent: once unblocked, it still works.
    /// </summary>
    [SeamFact]
    public async Task ResetCode_TextedBeforeTheNumberWasBlocked_IsPhoneBlocked_AndStaysUnspent()
    {
        var (member, code) = await ResetCodeAsync();
        await Pan.Tests.Admin.TestPhoneBlocks.BlockAsync(fixture.Server, member.E164);

        foreach (var name in new[] { member.Name, "someone-else" })
        {
            var ex = await Errors.ExpectAsync(
                () => Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = code, Phone = member.E164, DisplayName = name }).ResponseAsync,
                StatusCode.PermissionDenied, "PHONE_BLOCKED");
            Assert.Equal("This number cannot be used.", ex.Status.Detail);
        }

        await Pan.Tests.Admin.TestPhoneBlocks.UnblockAsync(fixture.Server, member.E164);
        var reset = await Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = code, Phone = member.E164, DisplayName = member.Name });
        Assert.Equal(43, reset.AuthResetToken.Length);
    }

    /// <summary>A new member who asked for a reset by phone, and the code texted for it.</summary>
    private async Task<(TestMember Member, string Code)> ResetCodeAsync()
    {
        var member = await mail.RegisterAsync();
        await Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = member.Name, Phone = member.E164 });
        return (member, await PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, member.E164, 2));
    }

    [SeamFact]
    public async Task ResetCode_ANewRequestKillsTheOldCode_AlsoOnceTheNewCodeIsUsed()
    {
        var (member, first) = await ResetCodeAsync();
        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        await Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = member.Name, Phone = member.E164 });
        var second = await PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, member.E164, 3);
        if (first == second)
        {
            return; // One chance in a million: the two codes cannot be told apart.
        }

        await Errors.ExpectAsync(
            () => Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = first, Phone = member.E164, DisplayName = member.Name }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetVerifyPhoneCodeResponse.ErrCodeInvalid");
        await mail.ClearFailuresAsync(member.Uid);
        var reset = await Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = second, Phone = member.E164, DisplayName = member.Name });
        Assert.Equal(43, reset.AuthResetToken.Length);

        // Why: the older request's flow is still within its 30 minutes, but its code died when the new one was sent;
        // using the new code must not bring it back.
        await mail.ClearFailuresAsync(member.Uid);
        await Errors.ExpectAsync(
            () => Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = first, Phone = member.E164, DisplayName = member.Name }).ResponseAsync,
            StatusCode.InvalidArgument, "AuthResetVerifyPhoneCodeResponse.ErrCodeInvalid");
    }

    /// <summary>
    /// AuthResetVerifyPhoneCode racing the member's deletion: on PostgreSQL the deletion runs while the call is about to
    /// store its auth_reset_token. The call comes first, so it gets its token; the deletion must then take it away.
    /// </summary>
    [SeamFact]
    public async Task ResetCode_WhenTheMembersDeletionRunsBeforeItsTokenIsStored_LeavesNoAuthResetTokenOfTheMember()
    {
        var (member, code) = await ResetCodeAsync();

        var status = await Deletion.DeletionRaces.DeletionBeforeTheVerifyTokenIsStoredAsync(fixture.Server, fixture.Database, member.Uid,
            () => Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = code, Phone = member.E164, DisplayName = member.Name }).ResponseAsync);

        Assert.Equal(StatusCode.OK, status);
        Assert.Equal(0, await Deletion.DeletionRaces.VerifyTokensAsync(fixture.Server, member.Uid));
    }

    /// <summary>SECURITY 21: when the auth_reset_token cannot be stored, the texted code is not spent (nor counted as a failure).</summary>
    [SeamFact]
    public async Task ResetCode_WhenStoringTheAuthResetTokenFails_KeepsTheCode_AndTheSameCodeThenGivesAToken()
    {
        var (member, code) = await ResetCodeAsync();
        var request = new AuthResetVerifyPhoneCodeRequest { Code = code, Phone = member.E164, DisplayName = member.Name };
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "verify_tokens", TriggeredWrite.Insert, member.Uid))
        {
            await Foundation.HalfWrittenChecks.ExpectInternalAsync(() => Client.AuthResetVerifyPhoneCodeAsync(request).ResponseAsync);
        }

        Assert.Equal(0, await mail.FailuresAsync(member.Uid));
        var reset = await Client.AuthResetVerifyPhoneCodeAsync(request);
        Assert.Equal(43, reset.AuthResetToken.Length);
    }
}

public sealed class PhoneRecoveryBehaviour_Sqlite(SqliteEmailFixture f) : PhoneRecoveryBehaviour<SqliteEmailFixture>(f);

public sealed class PhoneRecoveryBehaviour_Postgres(PostgresEmailFixture f) : PhoneRecoveryBehaviour<PostgresEmailFixture>(f);
