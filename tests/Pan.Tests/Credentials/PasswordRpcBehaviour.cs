using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using static Pan.Tests.Credentials.TestCredentials;

namespace Pan.Tests.Credentials;

/// <summary>SetMemberPassword, QueryMemberCredentialStatus and NewMember with a password and security question.</summary>
public abstract class PasswordRpcBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : CredentialFixture
{
    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Client => new(Server.Grpc);

    [Fact]
    public async Task Chain_AFirstPasswordFromTheAccessTokenAlone_IsRefused_SoItNeverBecomesAPasswordStepUpForDeleteMember()
    {
        // A phone member without a password (the default), and an app that holds only its access token.
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);

        // 1. A first password with the access token alone (reset_code empty, or not a verify token).
        foreach (var resetCode in new[] { string.Empty, "123456" })
        {
            await Errors.ExpectAsync(
                () => Client.SetMemberPasswordAsync(new SetMemberPasswordRequest { AccessToken = access, Password = Password, ConfirmPassword = Password, ResetCode = resetCode }).ResponseAsync,
                StatusCode.PermissionDenied, "ErrSetMemberPassword.FAILED");
        }

        Assert.Null(await StoredHashAsync(Server, member.Uid));

        // 2. That password re-authenticates nobody, so it yields no delete verify token ...
        await Errors.ExpectAsync(
            () => Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = Password, SessionToken = "delete" }).ResponseAsync,
            StatusCode.PermissionDenied, "VerifyMemberByPasswordResponse.ErrAuthFailed");

        // 3. ... and DeleteMember stays behind the SMS step-up: the member is alive and signed in.
        Assert.Equal(member.Uid, (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access })).Info.Uid);
    }

    [Fact]
    public async Task SetMemberPassword_WithAnUpdateCredentialTokenFromTheSmsStepUp_SetsTheFirstPassword_AndSpendsTheToken()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var proof = await Phones.UpdateCredentialTokenAsync(access, member.Account!.PhoneE164!);

        await Client.SetMemberPasswordAsync(new SetMemberPasswordRequest { AccessToken = access, Password = Password, ConfirmPassword = Password, ResetCode = proof });

        Assert.StartsWith("$argon2id$", await StoredHashAsync(Server, member.Uid), StringComparison.Ordinal);
        Assert.False(await IsLiveAsync(proof, member.Uid));
        Assert.NotEmpty((await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = Password })).VerifyToken);
        // A first password ends no session.
        Assert.Equal(member.Uid, (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access })).Info.Uid);
    }

    [Fact]
    public async Task SetMemberPassword_WithoutAValidUpdateCredentialToken_IsPermissionDenied_WritesNothing_AndSpendsNothing()
    {
        var member = await TestMembers.CreateAsync(Server);
        var other = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var proof = await VerifyTokenAsync(member.Uid, VerifyPurposes.UpdateCredential);
        var spent = await VerifyTokenAsync(member.Uid, VerifyPurposes.UpdateCredential);
        Assert.True(await UseAsync<TokenService, bool>(Server, t => t.ConsumeVerifyTokenAsync(spent, member.Uid, VerifyPurposes.UpdateCredential, default)));

        var refused = new[]
        {
            string.Empty,
            "not-a-token",
            spent,
            await VerifyTokenAsync(other.Uid, VerifyPurposes.UpdateCredential),
            await VerifyTokenAsync(member.Uid, VerifyPurposes.SwitchMember),
            await VerifyTokenAsync(member.Uid, VerifyPurposes.Delete),
            await VerifyTokenAsync(member.Uid, VerifyPurposes.DeleteByPassword),
            await VerifyTokenAsync(member.Uid, VerifyPurposes.SwitchMemberByPassword),
        };
        foreach (var resetCode in refused)
        {
            await Errors.ExpectAsync(
                () => Client.SetMemberPasswordAsync(new SetMemberPasswordRequest { AccessToken = access, Password = Password, ConfirmPassword = Password, ResetCode = resetCode }).ResponseAsync,
                StatusCode.PermissionDenied, "ErrSetMemberPassword.FAILED");
        }

        Assert.Null(await StoredHashAsync(Server, member.Uid));
        // Another member's token was not spent on this one either.
        Assert.True(await IsLiveAsync(refused[3], other.Uid));

        // A password the policy refuses spends nothing: the same token then sets a good one.
        await Errors.ExpectAsync(
            () => Client.SetMemberPasswordAsync(new SetMemberPasswordRequest { AccessToken = access, Password = "Password123", ConfirmPassword = "Password123", ResetCode = proof }).ResponseAsync,
            StatusCode.InvalidArgument, "ErrSetMemberPassword.PWD_ISSUE");
        Assert.True(await IsLiveAsync(proof, member.Uid));
        await Client.SetMemberPasswordAsync(new SetMemberPasswordRequest { AccessToken = access, Password = Password, ConfirmPassword = Password, ResetCode = proof });
        Assert.StartsWith("$argon2id$", await StoredHashAsync(Server, member.Uid), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetMemberPassword_FirstPassword_IsStoredAsArgon2id_ThenASecondIsRefused()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);

        await Client.SetMemberPasswordAsync(new SetMemberPasswordRequest
        {
            AccessToken = access, Password = Password, ConfirmPassword = Password, ResetCode = await VerifyTokenAsync(member.Uid, VerifyPurposes.UpdateCredential),
        });

        Assert.StartsWith("$argon2id$v=19$m=8,t=1,p=1$", await StoredHashAsync(Server, member.Uid), StringComparison.Ordinal);
        var status = await Client.QueryMemberCredentialStatusAsync(new QueryMemberCredentialStatusRequest { PanAccessToken = access });
        Assert.True(status.HasPassword);
        var second = await VerifyTokenAsync(member.Uid, VerifyPurposes.UpdateCredential);
        await Errors.ExpectAsync(
            () => Client.SetMemberPasswordAsync(new SetMemberPasswordRequest { AccessToken = access, Password = OtherPassword, ConfirmPassword = OtherPassword, ResetCode = second }).ResponseAsync,
            StatusCode.FailedPrecondition, "ErrSetMemberPassword.FAILED");
        Assert.StartsWith("$argon2id$", await StoredHashAsync(Server, member.Uid), StringComparison.Ordinal);
        // The refused call spent nothing: the token still changes the password through UpdateCredential.
        Assert.True(await IsLiveAsync(second, member.Uid));
        // The first password still works: the refused call changed nothing.
        var verified = await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = Password });
        Assert.NotEmpty(verified.VerifyToken);
    }

    [Fact]
    public async Task SetMemberPassword_BadInput_IsPwdIssueNamingTheField_WithTheReason()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);

        var empty = await Expect(new SetMemberPasswordRequest { AccessToken = access });
        Assert.Equal("password", empty.BadRequest()!.FieldViolations[0].Field);
        var differ = await Expect(new SetMemberPasswordRequest { AccessToken = access, Password = Password, ConfirmPassword = OtherPassword });
        Assert.Equal("confirm_password", differ.BadRequest()!.FieldViolations[0].Field);
        var common = await Expect(new SetMemberPasswordRequest { AccessToken = access, Password = "Password123", ConfirmPassword = "Password123" });
        Assert.Contains("common", common.BadRequest()!.FieldViolations[0].Description, StringComparison.Ordinal);
        var phone = member.Account!.PhoneE164!;
        var fromPhone = "pw" + phone[^8..] + "x";
        var derived = await Expect(new SetMemberPasswordRequest { AccessToken = access, Password = fromPhone, ConfirmPassword = fromPhone });
        Assert.Contains("phone number", derived.Status.Detail, StringComparison.Ordinal);
        var fromName = member.DisplayName + "!";
        Assert.Contains("display name", (await Expect(new SetMemberPasswordRequest { AccessToken = access, Password = fromName, ConfirmPassword = fromName })).Status.Detail, StringComparison.Ordinal);
        var huge = new string('p', 1024 * 1024);
        var tooLong = await Expect(new SetMemberPasswordRequest { AccessToken = access, Password = huge, ConfirmPassword = huge });
        Assert.Contains("at most 256", tooLong.Status.Detail, StringComparison.Ordinal);

        Assert.Null(await StoredHashAsync(Server, member.Uid));
    }

    [Fact]
    public async Task SetMemberPassword_BadToken_IsUnauthenticatedFailed()
    {
        await Errors.ExpectAsync(
            () => Client.SetMemberPasswordAsync(new SetMemberPasswordRequest { AccessToken = "nope", Password = Password, ConfirmPassword = Password }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrSetMemberPassword.FAILED");
    }

    [Fact]
    public async Task QueryMemberCredentialStatus_SaysExactlyWhatIsSet_ForTheCallerOrAMemberOfItsPhone()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var access = await TestMembers.AccessTokenAsync(Server, owner);

        Assert.Equal(new QueryMemberCredentialStatusResponse(), await Client.QueryMemberCredentialStatusAsync(new QueryMemberCredentialStatusRequest { PanAccessToken = access }));

        await UseAsync<Pan.Server.Credentials.CredentialStore>(Server, s => s.SetSecurityQuestionAsync(sibling.Uid, "First pet?", "Mochi", default));
        await TestMembers.UpdateAsync(Server, sibling.Uid, m =>
        {
            m.Email = $"{m.DisplayName}@example.com";
            m.EmailKey = m.Email.ToLowerInvariant();
        });
        var siblingStatus = await Client.QueryMemberCredentialStatusAsync(new QueryMemberCredentialStatusRequest { PanAccessToken = access, ObjectId = sibling.ObjectId.ToString() });
        Assert.Equal(new QueryMemberCredentialStatusResponse { HasEmail = true, HasSecurityQuestion = true }, siblingStatus);

        await TestMembers.UpdateAsync(Server, owner.Uid, m =>
        {
            m.Email = $"{m.DisplayName}@example.com";
            m.EmailKey = m.Email.ToLowerInvariant();
            m.EmailVerified = true;
        });
        await UseAsync<Pan.Server.Credentials.CredentialStore>(Server, s => s.SetPasswordAsync(owner.Uid, Password, null, default));
        // Setting a password with no session to keep ended every session: sign in again.
        access = await TestMembers.AccessTokenAsync(Server, owner);
        Assert.Equal(
            new QueryMemberCredentialStatusResponse { HasPassword = true, HasEmail = true, EmailVerified = true },
            await Client.QueryMemberCredentialStatusAsync(new QueryMemberCredentialStatusRequest { PanAccessToken = access, ObjectId = owner.ObjectId.ToString() }));
    }

    [Fact]
    public async Task QueryMemberCredentialStatus_FromAMemberBoundSession_AnswersAnotherMemberOfThePhoneLikeAStranger()
    {
        // A session that proved one member (password, email code, hand-off, social login) sees no other member of the
        // phone (OtherMember answers it an empty list); what a sibling has set (a password, an email, a security
        // question) is no more its business than the sibling's self view.
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var stranger = await TestMembers.CreateAsync(Server);
        await UseAsync<Pan.Server.Credentials.CredentialStore>(Server, s => s.SetSecurityQuestionAsync(sibling.Uid, "First pet?", "Mochi", default));
        await UseAsync<Pan.Server.Credentials.CredentialStore>(Server, s => s.SetPasswordAsync(sibling.Uid, Password, null, default));

        foreach (var method in new[] { AuthMethods.Password, AuthMethods.EmailCode, AuthMethods.LoginToken, AuthMethods.Passkey, "auth-by-omniauth" })
        {
            var memberBound = await TestMembers.AccessTokenAsync(Server, await TestMembers.AuthTokenAsync(Server, owner, method), owner);
            foreach (var other in new[] { sibling, stranger })
            {
                await Errors.ExpectAsync(
                    () => Client.QueryMemberCredentialStatusAsync(new QueryMemberCredentialStatusRequest { PanAccessToken = memberBound, ObjectId = other.ObjectId.ToString() }).ResponseAsync,
                    StatusCode.NotFound, "QueryMemberCredentialStatusResponse.ErrFailed");
            }

            // Its own member, named or not, it still sees.
            Assert.Equal(new QueryMemberCredentialStatusResponse(), await Client.QueryMemberCredentialStatusAsync(new QueryMemberCredentialStatusRequest { PanAccessToken = memberBound, ObjectId = owner.ObjectId.ToString() }));
            Assert.Equal(new QueryMemberCredentialStatusResponse(), await Client.QueryMemberCredentialStatusAsync(new QueryMemberCredentialStatusRequest { PanAccessToken = memberBound }));
        }

        // A session that proved the phone sees the sibling.
        var byPhone = await TestMembers.AccessTokenAsync(Server, owner);
        Assert.Equal(
            new QueryMemberCredentialStatusResponse { HasPassword = true, HasSecurityQuestion = true },
            await Client.QueryMemberCredentialStatusAsync(new QueryMemberCredentialStatusRequest { PanAccessToken = byPhone, ObjectId = sibling.ObjectId.ToString() }));
    }

    [Fact]
    public async Task QueryMemberCredentialStatus_Errors()
    {
        var member = await TestMembers.CreateAsync(Server);
        var stranger = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);

        await Errors.ExpectAsync(
            () => Client.QueryMemberCredentialStatusAsync(new QueryMemberCredentialStatusRequest { PanAccessToken = "nope" }).ResponseAsync,
            StatusCode.Unauthenticated, "QueryMemberCredentialStatusResponse.ErrFailed");
        await Errors.ExpectAsync(
            () => Client.QueryMemberCredentialStatusAsync(new QueryMemberCredentialStatusRequest { PanAccessToken = access, ObjectId = stranger.ObjectId.ToString() }).ResponseAsync,
            StatusCode.NotFound, "QueryMemberCredentialStatusResponse.ErrFailed");
        var bad = await Errors.ExpectAsync(
            () => Client.QueryMemberCredentialStatusAsync(new QueryMemberCredentialStatusRequest { PanAccessToken = access, ObjectId = "not-a-uuid" }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("object_id", bad.BadRequest()!.FieldViolations[0].Field);
    }

    [Fact]
    public async Task NewMember_WithPasswordAndSecurityQuestion_StoresBoth()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, owner);
        var name = TestMembers.UniqueName("n");

        var created = await Client.NewMemberAsync(new NewMemberRequest
        {
            AuthToken = auth,
            DisplayName = name,
            Password = Password,
            ConfirmPassword = Password,
            SecurityQuestion = new SecurityQuestion { Question = "Favourite city?", Answer = "Tainan" },
        });

        var row = await RowAsync(Server, created.Object.Uid);
        Assert.NotNull(row);
        Assert.StartsWith("$argon2id$", row.PasswordHash, StringComparison.Ordinal);
        Assert.Equal("Favourite city?", row.SecurityQuestion);
        Assert.StartsWith("$argon2id$", row.SecurityAnswerHash, StringComparison.Ordinal);
        var verified = await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest
        {
            DisplayName = name,
            Password = Password,
            SecurityQuestion = new SecurityQuestion { Answer = " TAINAN " },
        });
        Assert.NotEmpty(verified.VerifyToken);
    }

    [Fact]
    public async Task NewMember_PolicyOrQuestionProblems_CreateNothing()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, owner);
        var name = TestMembers.UniqueName("n");

        var policy = await Errors.ExpectAsync(
            () => Client.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = name, Password = "qwertyuiop", ConfirmPassword = "qwertyuiop" }).ResponseAsync,
            StatusCode.InvalidArgument, "ErrNewMember.FAILED");
        Assert.Equal("password", policy.BadRequest()!.FieldViolations[0].Field);
        Assert.Contains("common", policy.BadRequest()!.FieldViolations[0].Description, StringComparison.Ordinal);
        var fromName = name + "2024";
        await Errors.ExpectAsync(
            () => Client.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = name, Password = fromName, ConfirmPassword = fromName }).ResponseAsync,
            StatusCode.InvalidArgument, "ErrNewMember.FAILED");
        var question = await Errors.ExpectAsync(
            () => Client.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = name, SecurityQuestion = new SecurityQuestion { Question = "Pet?" } }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("security_question.answer", question.BadRequest()!.FieldViolations[0].Field);

        var access = await TestMembers.AccessTokenAsync(Server, owner);
        Assert.Empty((await Client.OtherMemberAsync(new OtherMemberRequest { AccessToken = access })).Objects);
    }

    private async Task<RpcException> Expect(SetMemberPasswordRequest request) =>
        await Errors.ExpectAsync(() => Client.SetMemberPasswordAsync(request).ResponseAsync, StatusCode.InvalidArgument, "ErrSetMemberPassword.PWD_ISSUE");

    private PhoneFlows.Phones Phones => new(Client, fixture.Inbox);

    private Task<string> VerifyTokenAsync(long uid, string purpose) => Foundation.HalfWrittenChecks.VerifyTokenAsync(Server, uid, purpose);

    private Task<bool> IsLiveAsync(string token, long uid) =>
        UseAsync<TokenService, bool>(Server, t => t.VerifyTokenIsLiveAsync(token, uid, VerifyPurposes.UpdateCredential, default));
}

public sealed class PasswordRpcBehaviour_Sqlite(SqliteCredentialFixture f) : PasswordRpcBehaviour<SqliteCredentialFixture>(f);

public sealed class PasswordRpcBehaviour_Postgres(PostgresCredentialFixture f) : PasswordRpcBehaviour<PostgresCredentialFixture>(f);
