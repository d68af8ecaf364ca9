using Grpc.Core;
using Pan.General.Member;
using Pan.Server.BruteForce;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using PhoneFlowSteps = Pan.Tests.PhoneFlows.Phones;
using static Pan.Tests.Credentials.TestCredentials;
using LoginPhase = Pan.General.Member.LoginRequest.Types.Phase;

namespace Pan.Tests.Credentials;

/// <summary>
/// The per-member failure counter (SECURITY 10) on the fixture's fake clock: 2 free failures, then waits of 1 s, 2 s,
/// …, a 60-minute lock at the 5th; one counter for passwords, answers and SMS codes; locked answers exactly like wrong.
/// </summary>
public abstract class BruteForceBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : CredentialFixture
{
    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Client => new(Server.Grpc);

    [Fact]
    public async Task ProgressiveDelay_RefusesEvenTheRightPassword_UntilTheWaitIsOver()
    {
        var member = await MemberWithPasswordAsync(Server);
        for (var i = 0; i < CredentialFixture.FreeFailures + 1; i++)
        {
            await ExpectAuthFailed(member.DisplayName!, "not the password");
        }

        // Third failure: a 1 s wait. The right password is refused exactly like a wrong one and the refusal is not counted.
        await ExpectAuthFailed(member.DisplayName!, Password);
        Assert.Equal(3, await FailuresAsync(Server, member.Uid));

        Server.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.NotEmpty((await Verify(member.DisplayName!, Password)).VerifyToken);
        Assert.Equal(0, await FailuresAsync(Server, member.Uid));
    }

    [Fact]
    public async Task Lock_AnswersLikeWrongAndUnknown_ThenIsReleasedByTime()
    {
        var member = await MemberWithPasswordAsync(Server);
        var wrong = await LockAsync(member.DisplayName!);
        var unknown = await ExpectAuthFailed(TestMembers.UniqueName("nobody"), Password);

        var locked = await ExpectAuthFailed(member.DisplayName!, Password);
        Assert.Equal(wrong.StatusCode, locked.StatusCode);
        Assert.Equal(wrong.Status.Detail, locked.Status.Detail);
        Assert.Equal(wrong.Info(), locked.Info());
        Assert.Equal(unknown.Status.Detail, locked.Status.Detail);
        Assert.Equal(unknown.Info(), locked.Info());

        Server.Clock.Advance(TimeSpan.FromMinutes(59));
        await ExpectAuthFailed(member.DisplayName!, Password);
        Server.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.NotEmpty((await Verify(member.DisplayName!, Password)).VerifyToken);
    }

    [Fact]
    public async Task Lock_CanBeReleasedByAnOperator()
    {
        var member = await MemberWithPasswordAsync(Server);
        await LockAsync(member.DisplayName!);
        await ExpectAuthFailed(member.DisplayName!, Password);

        await UseAsync<FailureCounter>(Server, c => c.ResetAsync(member.Uid, default));

        Assert.NotEmpty((await Verify(member.DisplayName!, Password)).VerifyToken);
    }

    [Fact]
    public async Task WrongSmsCodes_CountOnTheSameCounter_AndALockedMemberCannotSignInByCode()
    {
        var phones = new PhoneFlowSteps(Client, fixture.Inbox);
        var (auth, e164) = await phones.RegisterAsync();
        var access = await phones.AccessTokenAsync(auth);
        var me = await Client.MeAsync(new MeRequest { AccessToken = access });
        // Why a verify token issued directly: the texts this test counts are the sign-in's and the step-up's own.
        var proof = await Foundation.HalfWrittenChecks.VerifyTokenAsync(Server, me.User.Uid, Pan.Server.Tokens.VerifyPurposes.UpdateCredential);
        await Client.SetMemberPasswordAsync(new SetMemberPasswordRequest { AccessToken = access, Password = Password, ConfirmPassword = Password, ResetCode = proof });

        var login = await phones.StartLoginAsync(e164);
        var code = await PhoneFlowSteps.NthCodeAsync(fixture.Inbox, e164, 2);
        for (var i = 0; i < CredentialFixture.FreeFailures + 1; i++)
        {
            await ExpectCodeInvalid(login.PhaseSessionToken, WrongCode(code));
        }

        // Three wrong codes: the shared counter makes the member wait, so the right password is refused for now.
        Assert.Equal(3, await FailuresAsync(Server, me.User.Uid));
        await ExpectAuthFailed(me.User.DisplayName, Password);

        // Two more wrong passwords (after the waits) lock the member; then even the right SMS code is CODE_INVALID.
        Server.Clock.Advance(TimeSpan.FromSeconds(1));
        await ExpectAuthFailed(me.User.DisplayName, "not the password");
        Server.Clock.Advance(TimeSpan.FromSeconds(2));
        await ExpectAuthFailed(me.User.DisplayName, "not the password");
        var wrongCode = await ExpectCodeInvalid(login.PhaseSessionToken, WrongCode(code));
        var lockedCode = await ExpectCodeInvalid(login.PhaseSessionToken, code);
        Assert.Equal(wrongCode.Status.Detail, lockedCode.Status.Detail);
        Assert.Equal(CredentialFixture.MaxFailures, await FailuresAsync(Server, me.User.Uid));

        // After the lock a fresh sign-in by SMS works and clears the counter.
        Server.Clock.Advance(TimeSpan.FromMinutes(61));
        Assert.NotEmpty(await phones.LoginAsync(e164));
        Assert.Equal(0, await FailuresAsync(Server, me.User.Uid));
    }

    [Fact]
    public async Task PhoneSignIn_AtAnExpiredCode_ALockedMemberGetsTheAnswerAnUnlockedOneGets()
    {
        // A lock refuses the code unseen; what a try answers without looking at the code (expired, used up, spent) must
        // stay what it is for everyone, or the answer tells that the member is locked (SECURITY 10).
        var phones = new PhoneFlowSteps(Client, fixture.Inbox);
        var (_, freePhone) = await phones.RegisterAsync();
        var (lockedAuth, lockedPhone) = await phones.RegisterAsync();
        var lockedUid = (await Client.MeAsync(new MeRequest { AccessToken = await phones.AccessTokenAsync(lockedAuth) })).User.Uid;
        var free = await phones.StartLoginAsync(freePhone);
        var freeCode = await PhoneFlowSteps.NthCodeAsync(fixture.Inbox, freePhone, 2);
        var locked = await phones.StartLoginAsync(lockedPhone);
        var lockedCode = await PhoneFlowSteps.NthCodeAsync(fixture.Inbox, lockedPhone, 2);
        await UseAsync<FailureCounter>(Server, async counter =>
        {
            for (var i = 0; i < CredentialFixture.MaxFailures; i++)
            {
                await counter.RecordFailureAsync(lockedUid, default);
            }
        });

        Server.Clock.Advance(TimeSpan.FromMinutes(11));
        var expiredForFree = await ExpectCodeInvalid(free.PhaseSessionToken, freeCode);
        var expiredForLocked = await ExpectCodeInvalid(locked.PhaseSessionToken, lockedCode);
        Assert.Contains("expired", expiredForFree.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(expiredForFree.Status.Detail, expiredForLocked.Status.Detail);
        Assert.Equal(CredentialFixture.MaxFailures, await FailuresAsync(Server, lockedUid));
    }

    [Fact]
    public async Task WrongStepUpCodes_Count_AndALockRefusesTheRightOne()
    {
        var phones = new PhoneFlowSteps(Client, fixture.Inbox);
        var (auth, e164) = await phones.RegisterAsync();
        var access = await phones.AccessTokenAsync(auth);
        var me = await Client.MeAsync(new MeRequest { AccessToken = access });
        // Why a verify token issued directly: the texts this test counts are the sign-in's and the step-up's own.
        var proof = await Foundation.HalfWrittenChecks.VerifyTokenAsync(Server, me.User.Uid, Pan.Server.Tokens.VerifyPurposes.UpdateCredential);
        await Client.SetMemberPasswordAsync(new SetMemberPasswordRequest { AccessToken = access, Password = Password, ConfirmPassword = Password, ResetCode = proof });
        await Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access, SessionToken = "update-credential" });
        var code = await PhoneFlowSteps.NthCodeAsync(fixture.Inbox, e164, 2);

        await ExpectStepUpInvalid(access, WrongCode(code));
        Assert.Equal(1, await FailuresAsync(Server, me.User.Uid));
        for (var i = 1; i < CredentialFixture.MaxFailures; i++)
        {
            await ExpectAuthFailed(me.User.DisplayName, "not the password");
            Server.Clock.Advance(TimeSpan.FromSeconds(8));
        }

        var locked = await ExpectStepUpInvalid(access, code);
        Assert.Equal("code", locked.BadRequest()!.FieldViolations[0].Field);
        Server.Clock.Advance(TimeSpan.FromMinutes(60));
        await Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access, SessionToken = "update-credential" });
        var fresh = await PhoneFlowSteps.NthCodeAsync(fixture.Inbox, e164, 3);
        var verify = await Client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest { PanAccessToken = access, SessionToken = "update-credential", Code = fresh });
        Assert.NotEmpty(verify.VerifyToken);
    }

    [Fact]
    public async Task SixtyFailuresRecordedAtOnce_AreEachCounted_NoneFails()
    {
        // Why: guesses from many clients land at once; each failure must count, exactly once, whatever the contention
        // (a compare-and-set loop gave up under it, and the guess answered INTERNAL).
        var member = await MemberWithPasswordAsync(Server);
        await Task.WhenAll(Enumerable.Range(0, 60).Select(_ => Task.Run(() => UseAsync<FailureCounter>(Server, c => c.RecordFailureAsync(member.Uid, default)))));

        Assert.Equal(60, await FailuresAsync(Server, member.Uid));
        await ExpectAuthFailed(member.DisplayName!, Password);
    }

    [Fact]
    public async Task ThirtyParallelWrongPasswords_AllAnswerLikeWrong_AndLeaveTheMemberWaiting()
    {
        // Why 30: an attacker fires guesses at once; every one must be counted or refused, none may answer INTERNAL.
        var member = await MemberWithPasswordAsync(Server);
        var attempts = Enumerable.Range(0, 30).Select(i => Task.Run(() => ExpectAuthFailed(member.DisplayName!, $"not the password {i}")));
        var refusals = await Task.WhenAll(attempts);

        Assert.All(refusals, r => Assert.Equal("VerifyMemberByPasswordResponse.ErrAuthFailed", r.Info()!.Reason));
        Assert.InRange(await FailuresAsync(Server, member.Uid), CredentialFixture.FreeFailures + 1, 30);
        await ExpectAuthFailed(member.DisplayName!, Password);
    }

    [Fact]
    public async Task RightPassword_StillBeingHashedWhenTheMemberIsLocked_IsRefused()
    {
        // Why: guesses fired together all pass the lock check before any of them records a failure; a right one whose
        // hash ends after the others locked the member must lose, or parallel guessing would get past the cap.
        // The stored hash is slow on purpose (256 MiB, 12 passes: seconds), so the lock lands while it is computed.
        var member = await TestMembers.CreateAsync(Server);
        await ImportHashAsync(Server, member.Uid, SlowHash(Password));
        var verifying = Task.Run(() => Verify(member.DisplayName!, Password));
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        for (var i = 0; i < CredentialFixture.MaxFailures; i++)
        {
            await UseAsync<FailureCounter>(Server, c => c.RecordFailureAsync(member.Uid, default));
        }

        var refused = await Assert.ThrowsAsync<RpcException>(() => verifying);

        Assert.Equal((StatusCode.PermissionDenied, "VerifyMemberByPasswordResponse.ErrAuthFailed"), (refused.StatusCode, refused.Info()!.Reason));
    }

    private static string SlowHash(string password)
    {
        var encoded = new char[Geralt.Argon2id.HashSize];
        Geralt.Argon2id.ComputeHash(encoded, System.Text.Encoding.UTF8.GetBytes(password), 12, 256 * 1024 * 1024);
        var end = Array.IndexOf(encoded, '\0');
        return new string(encoded, 0, end < 0 ? encoded.Length : end);
    }

    /// <summary>Fails <see cref="CredentialFixture.MaxFailures"/> times (waiting out each delay); returns the last wrong answer.</summary>
    private async Task<RpcException> LockAsync(string name)
    {
        RpcException? last = null;
        for (var i = 0; i < CredentialFixture.MaxFailures; i++)
        {
            last = await ExpectAuthFailed(name, "not the password");
            Server.Clock.Advance(TimeSpan.FromSeconds(8));
        }

        return last!;
    }

    private async Task<VerifyMemberByPasswordResponse> Verify(string name, string password) =>
        await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = name, Password = password });

    private async Task<RpcException> ExpectAuthFailed(string name, string password) =>
        await Errors.ExpectAsync(
            () => Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = name, Password = password }).ResponseAsync,
            StatusCode.PermissionDenied, "VerifyMemberByPasswordResponse.ErrAuthFailed");

    private async Task<RpcException> ExpectCodeInvalid(string session, string code) =>
        await Errors.ExpectAsync(
            () => Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = session, PhaseInputCodeValue = code }).ResponseAsync,
            StatusCode.InvalidArgument, "ErrLogin.CODE_INVALID");

    private async Task<RpcException> ExpectStepUpInvalid(string access, string code) =>
        await Errors.ExpectAsync(
            () => Client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest { PanAccessToken = access, SessionToken = "update-credential", Code = code }).ResponseAsync,
            StatusCode.InvalidArgument, "VerifyPhoneCodeResponse.ErrCodeInvalid");

    private static string WrongCode(string code) => code == "000000" ? "111111" : "000000";
}

public sealed class BruteForceBehaviour_Sqlite(SqliteCredentialFixture f) : BruteForceBehaviour<SqliteCredentialFixture>(f);

public sealed class BruteForceBehaviour_Postgres(PostgresCredentialFixture f) : BruteForceBehaviour<PostgresCredentialFixture>(f);
