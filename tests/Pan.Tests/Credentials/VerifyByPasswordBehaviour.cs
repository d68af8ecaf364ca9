using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using static Pan.Tests.Credentials.TestCredentials;

namespace Pan.Tests.Credentials;

/// <summary>VerifyMemberByPassword, legacy hash upgrades and re-hashing after a parameter change (SECURITY 2, 3, 15).</summary>
public abstract class VerifyByPasswordBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : CredentialFixture
{
    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Client => new(Server.Grpc);

    [Fact]
    public async Task ByDisplayNameOrEmail_GivesAVerifyTokenForTheNamedOperation()
    {
        var member = await MemberWithPasswordAsync(Server);
        var email = await GiveEmailAsync(member, $"{member.DisplayName}@Example.com", verified: true);

        var byName = await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName!.ToUpperInvariant(), Password = Password });
        var byEmail = await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { Email = email.ToUpperInvariant(), Password = Password, SessionToken = "switch-member" });

        Assert.True(await Consume(byName.VerifyToken, member.Uid, VerifyPurposes.UpdateCredential));
        Assert.False(await Consume(byEmail.VerifyToken, member.Uid, VerifyPurposes.UpdateCredential));
        // A password proves the member, not the phone: the switch-member token is the password kind (SECURITY 13).
        Assert.False(await Consume(byEmail.VerifyToken, member.Uid, VerifyPurposes.SwitchMember));
        Assert.True(await Consume(byEmail.VerifyToken, member.Uid, VerifyPurposes.SwitchMemberByPassword));
    }

    [Fact]
    public async Task UnknownMember_WrongPassword_AndNoPassword_AnswerTheSame()
    {
        var member = await MemberWithPasswordAsync(Server);
        var passwordless = await TestMembers.CreateAsync(Server);

        var wrong = await ExpectAuthFailed(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = "not the password" });
        var unknown = await ExpectAuthFailed(new VerifyMemberByPasswordRequest { DisplayName = TestMembers.UniqueName("nobody"), Password = Password });
        var unset = await ExpectAuthFailed(new VerifyMemberByPasswordRequest { DisplayName = passwordless.DisplayName, Password = Password });
        var mismatch = await ExpectAuthFailed(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Email = "someone@example.com", Password = Password });

        Assert.All(new[] { unknown, unset, mismatch }, ex => Assert.Equal(wrong.Status.Detail, ex.Status.Detail));
        Assert.Equal(1, await FailuresAsync(Server, member.Uid));
    }

    [Fact]
    public async Task AnUnverifiedEmail_AndADeletedMember_NameNobody_AndCountNoFailure()
    {
        var unverified = await MemberWithPasswordAsync(Server);
        var email = await GiveEmailAsync(unverified, $"{unverified.DisplayName}@example.com", verified: false);
        var deleted = await MemberWithPasswordAsync(Server);
        await TestMembers.UpdateAsync(Server, deleted.Uid, m => m.Deleted = DateTimeOffset.UtcNow);

        var byEmail = await ExpectAuthFailed(new VerifyMemberByPasswordRequest { Email = email, Password = Password });
        var byDeletedName = await ExpectAuthFailed(new VerifyMemberByPasswordRequest { DisplayName = deleted.DisplayName, Password = Password });
        var wrong = await ExpectAuthFailed(new VerifyMemberByPasswordRequest { DisplayName = unverified.DisplayName, Password = "not the password" });

        Assert.Equal(wrong.Status.Detail, byEmail.Status.Detail);
        Assert.Equal(wrong.Status.Detail, byDeletedName.Status.Detail);
        Assert.Equal(0, await FailuresAsync(Server, deleted.Uid));
        // The name still works for the member whose address is unverified; the one wrong password above is its only failure.
        Assert.Equal(1, await FailuresAsync(Server, unverified.Uid));
        Assert.NotEmpty((await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = unverified.DisplayName, Password = Password })).VerifyToken);
    }

    [Fact]
    public async Task OneMegabytePassword_AnswersLikeAWrongOne_ForAKnownOrUnknownMember_NeverInternal()
    {
        // SECURITY 17: the oversized password is refused before Argon2id; the answer is the usual one, never INTERNAL.
        var member = await MemberWithPasswordAsync(Server);
        var huge = Password + new string('p', 1024 * 1024);

        var wrong = await ExpectAuthFailed(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = "not the password" });
        var known = await ExpectAuthFailed(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = huge });
        var unknown = await ExpectAuthFailed(new VerifyMemberByPasswordRequest { DisplayName = TestMembers.UniqueName("nobody"), Password = huge });

        Assert.Equal(wrong.Status.Detail, known.Status.Detail);
        Assert.Equal(wrong.Status.Detail, unknown.Status.Detail);
        Assert.Equal(2, await FailuresAsync(Server, member.Uid));
    }

    [Fact]
    public async Task MissingFields_AreTheSeedErrors()
    {
        var identity = await Errors.ExpectAsync(
            () => Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { Password = Password }).ResponseAsync,
            StatusCode.InvalidArgument, "VerifyMemberByPasswordResponse.ErrIdentityRequired");
        Assert.Equal("display_name", identity.BadRequest()!.FieldViolations[0].Field);
        var password = await Errors.ExpectAsync(
            () => Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = "someone" }).ResponseAsync,
            StatusCode.InvalidArgument, "VerifyMemberByPasswordResponse.ErrPasswordRequired");
        Assert.Equal("password", password.BadRequest()!.FieldViolations[0].Field);
        var operation = await Errors.ExpectAsync(
            () => Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = "someone", Password = Password, SessionToken = "launch-rockets" }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("session_token", operation.BadRequest()!.FieldViolations[0].Field);
    }

    [Fact]
    public async Task SecurityQuestion_IsRequiredAfterTheRightPassword_AndAWrongAnswerCounts()
    {
        var member = await MemberWithPasswordAsync(Server);
        await UseAsync<Pan.Server.Credentials.CredentialStore>(Server, s => s.SetSecurityQuestionAsync(member.Uid, "First school?", "Zhongshan", default));

        await Errors.ExpectAsync(
            () => Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = Password }).ResponseAsync,
            StatusCode.InvalidArgument, "VerifyMemberByPasswordResponse.ErrSecurityQuestionRequired");
        await ExpectAuthFailed(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = "not the password" });
        await ExpectAuthFailed(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = Password, SecurityQuestion = new SecurityQuestion { Answer = "Xinyi" } });
        Assert.Equal(2, await FailuresAsync(Server, member.Uid));

        var ok = await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest
        {
            DisplayName = member.DisplayName,
            Password = Password,
            SecurityQuestion = new SecurityQuestion { Question = "ignored", Answer = "ZHONGSHAN" },
        });
        Assert.NotEmpty(ok.VerifyToken);
        Assert.Equal(0, await FailuresAsync(Server, member.Uid));
    }

    [Fact]
    public async Task ChangedArgon2Parameters_RehashAtTheNextSuccessfulCheck()
    {
        var member = await MemberWithPasswordAsync(Server);
        var before = await StoredHashAsync(Server, member.Uid);
        Assert.StartsWith("$argon2id$v=19$m=8,t=1,p=1$", before, StringComparison.Ordinal);
        await using var node = await fixture.StartNodeAsync(fixture.SettingsWith(new Dictionary<string, string?>
        {
            ["Pan:Passwords:Argon2:MemoryKiB"] = "16",
            ["Pan:Passwords:Argon2:Iterations"] = "2",
        }));
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);

        await Assert.ThrowsAsync<RpcException>(() => client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = "wrong password" }).ResponseAsync);
        Assert.Equal(before, await StoredHashAsync(Server, member.Uid));
        await client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = Password });

        Assert.StartsWith("$argon2id$v=19$m=16,t=2,p=1$", await StoredHashAsync(Server, member.Uid), StringComparison.Ordinal);
        // The old node still verifies the new hash (parameters travel with it).
        await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = Password });
    }

    [Fact]
    public async Task ChangedArgon2Parameters_RehashTheSecurityAnswerToo_AtTheNextSuccessfulCheck()
    {
        // Security answers are hashed like passwords; the password-and-answer check must renew both, as a reset renews
        // the answer it checks (SECURITY 2).
        var member = await MemberWithPasswordAsync(Server);
        await UseAsync<Pan.Server.Credentials.CredentialStore>(Server, s => s.SetSecurityQuestionAsync(member.Uid, "First school?", "Zhongshan", default));
        Assert.StartsWith("$argon2id$v=19$m=8,t=1,p=1$", (await RowAsync(Server, member.Uid))!.SecurityAnswerHash, StringComparison.Ordinal);
        await using var node = await fixture.StartNodeAsync(fixture.SettingsWith(new Dictionary<string, string?>
        {
            ["Pan:Passwords:Argon2:MemoryKiB"] = "16",
            ["Pan:Passwords:Argon2:Iterations"] = "2",
        }));
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);

        await client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest
        {
            DisplayName = member.DisplayName, Password = Password, SecurityQuestion = new SecurityQuestion { Answer = "zhongshan" },
        });

        var row = await RowAsync(Server, member.Uid);
        Assert.StartsWith("$argon2id$v=19$m=16,t=2,p=1$", row!.PasswordHash, StringComparison.Ordinal);
        Assert.StartsWith("$argon2id$v=19$m=16,t=2,p=1$", row.SecurityAnswerHash, StringComparison.Ordinal);
        // The old node still verifies both (parameters travel with each hash).
        await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest
        {
            DisplayName = member.DisplayName, Password = Password, SecurityQuestion = new SecurityQuestion { Answer = " ZHONGSHAN " },
        });
    }

    [Fact]
    public async Task WithCaptchaOn_TheRecaptchaTokenMustPass()
    {
        await using var google = await FakeRecaptchaServer.StartAsync();
        await using var node = await fixture.StartNodeAsync(fixture.SettingsWith(google.Settings("always")));
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var member = await MemberWithPasswordAsync(Server);

        var refused = await Errors.ExpectAsync(
            () => client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = Password, RecaptchaToken = "bad" }).ResponseAsync,
            StatusCode.PermissionDenied, "VerifyMemberByPasswordResponse.ErrFailed");
        Assert.Equal("recaptcha_token", refused.BadRequest()!.FieldViolations[0].Field);
        Assert.Equal(0, await FailuresAsync(Server, member.Uid));

        var verified = await client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = Password, RecaptchaToken = google.Accept() });
        Assert.NotEmpty(verified.VerifyToken);
    }

    private async Task<string> GiveEmailAsync(Pan.Data.Members.Member member, string email, bool verified)
    {
        await TestMembers.UpdateAsync(Server, member.Uid, m =>
        {
            m.Email = email;
            m.EmailKey = email.ToLowerInvariant();
            m.EmailVerified = verified;
        });
        return email;
    }

    private async Task<RpcException> ExpectAuthFailed(VerifyMemberByPasswordRequest request) =>
        await Errors.ExpectAsync(() => Client.VerifyMemberByPasswordAsync(request).ResponseAsync, StatusCode.PermissionDenied, "VerifyMemberByPasswordResponse.ErrAuthFailed");

    private Task<bool> Consume(string token, long uid, string purpose) =>
        UseAsync<TokenService, bool>(Server, t => t.ConsumeVerifyTokenAsync(token, uid, purpose, default));
}

public sealed class VerifyByPasswordBehaviour_Sqlite(SqliteCredentialFixture f) : VerifyByPasswordBehaviour<SqliteCredentialFixture>(f);

public sealed class VerifyByPasswordBehaviour_Postgres(PostgresCredentialFixture f) : VerifyByPasswordBehaviour<PostgresCredentialFixture>(f);
