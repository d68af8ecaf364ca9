using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Credentials;
using Pan.Server.Email;
using Pan.Server.Tokens;
using Pan.Tests.Deletion;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using PhoneFlowSteps = Pan.Tests.PhoneFlows.Phones;
using static Pan.Tests.Credentials.TestCredentials;

namespace Pan.Tests.Credentials;

/// <summary>UpdateCredential and UpdateSecurityQuestion (SECURITY 4, 5, 12, 13).</summary>
public abstract class UpdateCredentialBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : CredentialFixture
{
    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Client => new(Server.Grpc);

    [Fact]
    public async Task PasswordChange_EndsTheMembersOtherSessions_ButKeepsTheCallers()
    {
        var member = await MemberWithPasswordAsync(Server);
        var callerAuth = await TestMembers.AuthTokenAsync(Server, member);
        var callerAccess = await TestMembers.AccessTokenAsync(Server, callerAuth, member);
        var otherAuth = await TestMembers.AuthTokenAsync(Server, member);
        var otherAccess = await TestMembers.AccessTokenAsync(Server, otherAuth, member);

        await Client.UpdateCredentialAsync(new UpdateCredentialRequest
        {
            PanAuthToken = callerAuth,
            OriginalPassword = Password,
            NewPassword = OtherPassword,
            ConfirmNewPassword = OtherPassword,
        });

        await Errors.ExpectAsync(() => Client.MeAsync(new MeRequest { AccessToken = otherAccess }).ResponseAsync, StatusCode.Unauthenticated, "ErrMe.TOKEN_INVALID");
        await Assert.ThrowsAsync<RpcException>(() => TestMembers.AccessTokenAsync(Server, otherAuth, member));
        Assert.Equal(member.Uid, (await Client.MeAsync(new MeRequest { AccessToken = callerAccess })).User.Uid);
        Assert.NotEmpty(await TestMembers.AccessTokenAsync(Server, callerAuth, member));
        // The old password is gone, the new one works.
        await Errors.ExpectAsync(
            () => Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = Password }).ResponseAsync,
            StatusCode.PermissionDenied, "VerifyMemberByPasswordResponse.ErrAuthFailed");
        await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = OtherPassword });
    }

    [Fact]
    public async Task PasswordChange_OnOneNode_EndsTheOtherSessions_OnAnotherNodeAtOnce()
    {
        // SECURITY 12: the other node has just answered from the token (a cached copy); the change must reach it first.
        await using var other = await fixture.StartNodeAsync(fixture.SettingsWith(new Dictionary<string, string?>()));
        var otherClient = new MemberServiceV2.MemberServiceV2Client(other.Grpc);
        var member = await MemberWithPasswordAsync(Server);
        var callerAuth = await TestMembers.AuthTokenAsync(Server, member);
        var stolenAccess = await TestMembers.AccessTokenAsync(Server, await TestMembers.AuthTokenAsync(Server, member), member);
        await otherClient.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = stolenAccess });
        await otherClient.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = stolenAccess });

        await Client.UpdateCredentialAsync(new UpdateCredentialRequest
        {
            PanAuthToken = callerAuth,
            OriginalPassword = Password,
            NewPassword = OtherPassword,
            ConfirmNewPassword = OtherPassword,
        });

        await Errors.ExpectAsync(
            () => otherClient.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = stolenAccess }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrValidateAccessToken.TOKEN_INVALID");
    }

    [Fact]
    public async Task WithoutTheOriginalPassword_OrWithAWrongOne_IsOriginalPasswordInvalid()
    {
        var member = await MemberWithPasswordAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, member);
        var change = new UpdateCredentialRequest { PanAuthToken = auth, NewPassword = OtherPassword, ConfirmNewPassword = OtherPassword };

        await ExpectOriginalInvalid(change);
        await ExpectOriginalInvalid(new UpdateCredentialRequest(change) { OriginalPassword = "not the password" });
        await ExpectOriginalInvalid(new UpdateCredentialRequest(change) { VerifyToken = "forged-token" });
        // A valid verify token for another operation does not unlock a credential change.
        var delete = await UseAsync<TokenService, IssuedToken>(Server, t => t.IssueVerifyTokenAsync(member.Uid, VerifyPurposes.Delete, default));
        await ExpectOriginalInvalid(new UpdateCredentialRequest(change) { VerifyToken = delete.Token });

        Assert.True((await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = Password })).VerifyToken.Length > 0);
    }

    [Fact]
    public async Task VerifyTokenFromVerifyMemberByPassword_UnlocksOneChange_Once()
    {
        var member = await MemberWithPasswordAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, member);
        var verify = (await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = Password })).VerifyToken;
        var change = new UpdateCredentialRequest { PanAuthToken = auth, VerifyToken = verify, NewPassword = OtherPassword, ConfirmNewPassword = OtherPassword };

        await Client.UpdateCredentialAsync(change);
        await ExpectOriginalInvalid(change);
    }

    [Fact]
    public async Task VerifyTokenFromAnSmsStepUp_SetsTheFirstPasswordAndASecurityQuestion()
    {
        var phones = new PhoneFlowSteps(Client, fixture.Inbox);
        var (auth, e164) = await phones.RegisterAsync();
        var access = await phones.AccessTokenAsync(auth);
        await Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access, SessionToken = VerifyPurposes.UpdateCredential });
        var code = await PhoneFlowSteps.NthCodeAsync(fixture.Inbox, e164, 2);
        var verify = await Client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest { PanAccessToken = access, SessionToken = VerifyPurposes.UpdateCredential, Code = code });

        await Client.UpdateCredentialAsync(new UpdateCredentialRequest
        {
            PanAuthToken = auth,
            VerifyToken = verify.VerifyToken,
            NewPassword = Password,
            ConfirmNewPassword = Password,
            SecurityQuestion = new SecurityQuestion { Question = "Street you grew up on?", Answer = "Heping East Road" },
        });

        var status = await Client.QueryMemberCredentialStatusAsync(new QueryMemberCredentialStatusRequest { PanAccessToken = access });
        Assert.True(status.HasPassword);
        Assert.True(status.HasSecurityQuestion);
    }

    [Fact]
    public async Task ObjectId_ChangesAnotherMemberOfThePhone_ButNotAStranger()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        await UseAsync<CredentialStore>(Server, s => s.SetPasswordAsync(sibling.Uid, Password, null, default));
        var stranger = await MemberWithPasswordAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, owner);

        await Client.UpdateCredentialAsync(new UpdateCredentialRequest
        {
            PanAuthToken = auth,
            ObjectId = sibling.ObjectId.ToString(),
            OriginalPassword = Password,
            NewPassword = OtherPassword,
            ConfirmNewPassword = OtherPassword,
        });
        await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = sibling.DisplayName, Password = OtherPassword });

        await Errors.ExpectAsync(
            () => Client.UpdateCredentialAsync(new UpdateCredentialRequest
            {
                PanAuthToken = auth,
                ObjectId = stranger.ObjectId.ToString(),
                OriginalPassword = Password,
                NewPassword = OtherPassword,
                ConfirmNewPassword = OtherPassword,
            }).ResponseAsync,
            StatusCode.NotFound, "UpdateCredentialResponse.ErrFailed");
        var bad = await Errors.ExpectAsync(
            () => Client.UpdateCredentialAsync(new UpdateCredentialRequest { PanAuthToken = auth, ObjectId = "x", NewPassword = OtherPassword, ConfirmNewPassword = OtherPassword }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("object_id", bad.BadRequest()!.FieldViolations[0].Field);
    }

    /// <summary>
    /// A session that proved one member (password, email code, hand-off, passkey, social login) reaches no other member
    /// of the phone: a sibling's object_id is answered as a stranger's (NOT_FOUND ErrFailed), as QueryMemberCredentialStatus
    /// answers it, even with the sibling's right password or its update-credential verify token, which stays unspent; the
    /// sibling's password is unchanged. A session that proved the phone still changes it.
    /// </summary>
    [Fact]
    public async Task ObjectId_OfAnotherMemberOfThePhone_FromAMemberBoundSession_IsAnsweredLikeAStranger_AndChangesNothing()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        await UseAsync<CredentialStore>(Server, s => s.SetPasswordAsync(sibling.Uid, Password, null, default));
        var before = await StoredHashAsync(Server, sibling.Uid);
        var verify = (await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = sibling.DisplayName, Password = Password })).VerifyToken;

        foreach (var method in new[] { AuthMethods.Password, AuthMethods.EmailCode, AuthMethods.LoginToken, AuthMethods.Passkey, "auth-by-omniauth" })
        {
            var memberBound = await TestMembers.AuthTokenAsync(Server, owner, method);
            foreach (var proof in new[]
            {
                new UpdateCredentialRequest { OriginalPassword = Password },
                new UpdateCredentialRequest { VerifyToken = verify },
            })
            {
                proof.PanAuthToken = memberBound;
                proof.ObjectId = sibling.ObjectId.ToString();
                proof.NewPassword = OtherPassword;
                proof.ConfirmNewPassword = OtherPassword;
                await Errors.ExpectAsync(() => Client.UpdateCredentialAsync(proof).ResponseAsync, StatusCode.NotFound, "UpdateCredentialResponse.ErrFailed");
            }
        }

        Assert.Equal(before, await StoredHashAsync(Server, sibling.Uid));
        await Client.UpdateCredentialAsync(new UpdateCredentialRequest
        {
            PanAuthToken = await TestMembers.AuthTokenAsync(Server, owner),
            ObjectId = sibling.ObjectId.ToString(),
            VerifyToken = verify,
            NewPassword = OtherPassword,
            ConfirmNewPassword = OtherPassword,
        });
        Assert.NotEqual(before, await StoredHashAsync(Server, sibling.Uid));
    }

    [Fact]
    public async Task BadInput_IsRefusedBeforeThePasswordIsChecked()
    {
        var member = await MemberWithPasswordAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, member);

        await Errors.ExpectAsync(
            () => Client.UpdateCredentialAsync(new UpdateCredentialRequest { PanAuthToken = "nope", OriginalPassword = Password, NewPassword = OtherPassword, ConfirmNewPassword = OtherPassword }).ResponseAsync,
            StatusCode.Unauthenticated, "UpdateCredentialResponse.ErrFailed");
        var confirm = await Errors.ExpectAsync(
            () => Client.UpdateCredentialAsync(new UpdateCredentialRequest { PanAuthToken = auth, OriginalPassword = Password, NewPassword = OtherPassword, ConfirmNewPassword = Password }).ResponseAsync,
            StatusCode.InvalidArgument, "UpdateCredentialResponse.ErrNewPasswordConfirmingFailed");
        Assert.Equal("confirm_new_password", confirm.BadRequest()!.FieldViolations[0].Field);
        var rule = await Errors.ExpectAsync(
            () => Client.UpdateCredentialAsync(new UpdateCredentialRequest { PanAuthToken = auth, OriginalPassword = Password, NewPassword = "12345678", ConfirmNewPassword = "12345678" }).ResponseAsync,
            StatusCode.InvalidArgument, "UpdateCredentialResponse.ErrNewPasswordRule");
        Assert.Equal("new_password", rule.BadRequest()!.FieldViolations[0].Field);
        Assert.Contains("common", rule.BadRequest()!.FieldViolations[0].Description, StringComparison.Ordinal);
        var nothing = await Errors.ExpectAsync(
            () => Client.UpdateCredentialAsync(new UpdateCredentialRequest { PanAuthToken = auth, OriginalPassword = Password }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("new_password", nothing.BadRequest()!.FieldViolations[0].Field);
        var question = await Errors.ExpectAsync(
            () => Client.UpdateCredentialAsync(new UpdateCredentialRequest { PanAuthToken = auth, OriginalPassword = Password, SecurityQuestion = new SecurityQuestion { Answer = "x" } }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("security_question.question", question.BadRequest()!.FieldViolations[0].Field);
        var email = await Errors.ExpectAsync(
            () => Client.UpdateCredentialAsync(new UpdateCredentialRequest { PanAuthToken = auth, OriginalPassword = Password, Email = "no-at-sign" }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("email", email.BadRequest()!.FieldViolations[0].Field);

        Assert.Equal(0, await FailuresAsync(Server, member.Uid));
    }

    [Theory]
    [InlineData(EmailChangeResult.Taken, StatusCode.AlreadyExists, "UpdateCredentialResponse.ErrEmailDuplicated", "email")]
    [InlineData(EmailChangeResult.InvalidEmail, StatusCode.InvalidArgument, "INVALID_ARGUMENT", "email")]
    [InlineData(EmailChangeResult.RedirectNotAllowed, StatusCode.InvalidArgument, "INVALID_ARGUMENT", "email_verification_redirect")]
    public void EmailRefusals_MapToTheSeedErrors(EmailChangeResult result, StatusCode code, string reason, string field)
    {
        var ex = CredentialChanges.EmailFailure(result);
        Assert.NotNull(ex);
        Assert.Equal(code, ex.StatusCode);
        Assert.Equal(reason, ex.Info().Reason);
        Assert.Equal(field, ex.BadRequest()!.FieldViolations[0].Field);
        Assert.Null(CredentialChanges.EmailFailure(EmailChangeResult.Sent));
    }

    /// <summary>
    /// A password change whose auth token (and original password) was checked just before the member's suspension, or a
    /// reset that ends every session of the member, committed: on PostgreSQL it waits for that change at the member's
    /// row; on SQLite it meets it committed. It must not then write its password on the strength of a session that has
    /// ended (MEMBER_SUSPENDED for a suspension, as a sign-in racing one answers; ErrFailed UNAUTHENTICATED, as for an
    /// ended auth token, after the reset); the password the reset set, or the one the member had, stays.
    /// </summary>
    [Fact]
    public async Task PasswordChange_WhileASuspensionOrAResetEndingItsSessionIsUncommitted_WritesNothing()
    {
        const string resetTo = "amber quarry whistle 31";
        foreach (var suspend in new[] { true, false })
        {
            var member = await MemberWithPasswordAsync(Server);
            var auth = await TestMembers.AuthTokenAsync(Server, member);
            var request = new UpdateCredentialRequest { PanAuthToken = auth, OriginalPassword = Password, NewPassword = OtherPassword, ConfirmNewPassword = OtherPassword };
            Task call;
            await using (UncommittedChange change = suspend
                ? await Admin.UncommittedSuspension.StartAsync(Server, fixture.Database, member.Uid)
                : await UncommittedPasswordChange.StartAsync(Server, fixture.Database, member.Uid, resetTo, keepSessionId: null))
            {
                call = Task.Run(() => Client.UpdateCredentialAsync(request).ResponseAsync);
                Assert.True(await change.WaitUntilBlockingAsync(call) || fixture.Database.Provider != "postgres");
                await change.CommitAsync();
            }

            var reason = await Errors.ReasonOfAsync(() => call);
            if (suspend && fixture.Database.Provider == "postgres")
            {
                Assert.Equal("MEMBER_SUSPENDED", reason);
            }
            else
            {
                Assert.Contains(reason, suspend
                    ? new[] { "MEMBER_SUSPENDED", "UpdateCredentialResponse.ErrFailed" }
                    : new[] { "UpdateCredentialResponse.ErrFailed", "UpdateCredentialResponse.ErrOriginalPasswordInvalid" });
            }

            Assert.Equal(SecretCheck.Wrong, await UseAsync<CredentialStore, SecretCheck>(Server, s => s.CheckPasswordAsync(member.Uid, OtherPassword, default)));
        }
    }

    [Fact]
    public async Task Secrets_WrittenAfterTheMemberWasDeleted_AreRefused_AndNothingIsStored()
    {
        // A password or question hashed while a deletion committed (an admin's ChangeMemberPassword checks the member,
        // then hashes for tens of milliseconds) must not leave a hash behind for the deleted member.
        var withPassword = await MemberWithPasswordAsync(Server);
        var withoutPassword = await TestMembers.CreateAsync(Server);
        foreach (var member in new[] { withPassword, withoutPassword })
        {
            // What a deletion does to the member's credentials, then its mark.
            await TestMembers.WithDbAsync(Server, async db =>
            {
                await new CredentialEraser(db).EraseAsync([member.Uid], default);
                return 0;
            });
            await TestMembers.UpdateAsync(Server, member.Uid, m => m.Deleted = DateTimeOffset.UtcNow);
        }

        await Assert.ThrowsAsync<Microsoft.EntityFrameworkCore.DbUpdateConcurrencyException>(() =>
            UseAsync<CredentialStore>(Server, s => s.SetPasswordAsync(withPassword.Uid, OtherPassword, null, default)));
        await Assert.ThrowsAsync<Microsoft.EntityFrameworkCore.DbUpdateConcurrencyException>(() =>
            UseAsync<CredentialStore>(Server, s => s.SetSecurityQuestionAsync(withoutPassword.Uid, "First pet?", "Rex", default)));
        Assert.False(await UseAsync<CredentialStore, bool>(Server, s => s.SetFirstPasswordAsync(withoutPassword.Uid, OtherPassword, default)));

        Assert.Null(await RowAsync(Server, withPassword.Uid));
        Assert.Null(await RowAsync(Server, withoutPassword.Uid));
    }

    [Fact]
    public async Task Secrets_WrittenWhileTheMembersDeletionIsUncommitted_WaitForIt_AndNothingIsStored()
    {
        // The write checked the member and hashed before the deletion began; its statements run while the deletion's
        // transaction (member row marked, credentials erased) is still open. On PostgreSQL a statement does not see
        // that uncommitted deletion: the write must wait for it rather than write around it.
        var withPassword = await MemberWithPasswordAsync(Server);
        var withoutPassword = await TestMembers.CreateAsync(Server);

        await using (var deletion = await UncommittedDeletion.StartAsync(Server, fixture.Database, withPassword.Uid))
        {
            // A password write that found the member and hashed before the deletion began.
            var write = Task.Run(() => UseAsync<CredentialStore>(Server, s => s.SetPasswordAsync(withPassword.Uid, OtherPassword, null, default)));
            Assert.True(await deletion.WaitUntilBlockingAsync(write) || fixture.Database.Provider != "postgres");
            await deletion.CommitAsync();
            await Assert.ThrowsAsync<Microsoft.EntityFrameworkCore.DbUpdateConcurrencyException>(() => write);
        }

        await using (var deletion = await UncommittedDeletion.StartAsync(Server, fixture.Database, withoutPassword.Uid))
        {
            // What SetMemberPassword runs once it found the member.
            var write = Task.Run(() => UseAsync<CredentialStore, bool>(Server, s => s.SetFirstPasswordAsync(withoutPassword.Uid, OtherPassword, default)));
            Assert.True(await deletion.WaitUntilBlockingAsync(write) || fixture.Database.Provider != "postgres");
            await deletion.CommitAsync();
            Assert.False(await write);
        }

        Assert.Null(await RowAsync(Server, withPassword.Uid));
        Assert.Null(await RowAsync(Server, withoutPassword.Uid));
    }

    [Fact]
    public async Task UpdateSecurityQuestion_WithAnUpdateToken_ReplacesTheQuestion()
    {
        var member = await MemberWithPasswordAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var token = (await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = Password })).VerifyToken;
        var request = new UpdateSecurityQuestionRequest
        {
            PanAccessToken = access,
            UpdateToken = token,
            SecurityQuestion = new SecurityQuestion { Question = "Childhood hero?", Answer = "Ｓｕｎ Ｙａｔ-ｓｅｎ" },
        };

        await Client.UpdateSecurityQuestionAsync(request);

        var row = await RowAsync(Server, member.Uid);
        Assert.Equal("Childhood hero?", row!.SecurityQuestion);
        Assert.StartsWith("$argon2id$", row.SecurityAnswerHash, StringComparison.Ordinal);
        await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest
        {
            DisplayName = member.DisplayName,
            Password = Password,
            SecurityQuestion = new SecurityQuestion { Answer = "  sun   yat-sen " },
        });
        // The update token was used up.
        await Errors.ExpectAsync(() => Client.UpdateSecurityQuestionAsync(request).ResponseAsync, StatusCode.PermissionDenied, "UpdateSecurityQuestionResponse.Error.Failed");
    }

    [Fact]
    public async Task UpdateSecurityQuestion_Errors()
    {
        var member = await MemberWithPasswordAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var question = new SecurityQuestion { Question = "Pet?", Answer = "Mochi" };

        await Errors.ExpectAsync(
            () => Client.UpdateSecurityQuestionAsync(new UpdateSecurityQuestionRequest { PanAccessToken = "nope", UpdateToken = "x", SecurityQuestion = question }).ResponseAsync,
            StatusCode.Unauthenticated, "UpdateSecurityQuestionResponse.Error.Failed");
        await Errors.ExpectAsync(
            () => Client.UpdateSecurityQuestionAsync(new UpdateSecurityQuestionRequest { PanAccessToken = access, UpdateToken = "forged", SecurityQuestion = question }).ResponseAsync,
            StatusCode.PermissionDenied, "UpdateSecurityQuestionResponse.Error.Failed");
        // The access token alone sets no question either (a recovery factor: SECURITY 4 and 13).
        await Errors.ExpectAsync(
            () => Client.UpdateSecurityQuestionAsync(new UpdateSecurityQuestionRequest { PanAccessToken = access, SecurityQuestion = question }).ResponseAsync,
            StatusCode.PermissionDenied, "UpdateSecurityQuestionResponse.Error.Failed");
        var missing = await Errors.ExpectAsync(
            () => Client.UpdateSecurityQuestionAsync(new UpdateSecurityQuestionRequest { PanAccessToken = access, UpdateToken = "x" }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("security_question", missing.BadRequest()!.FieldViolations[0].Field);
        var huge = await Errors.ExpectAsync(
            () => Client.UpdateSecurityQuestionAsync(new UpdateSecurityQuestionRequest
            {
                PanAccessToken = access,
                UpdateToken = "x",
                SecurityQuestion = new SecurityQuestion { Question = "Pet?", Answer = new string('a', 1024 * 1024) },
            }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("security_question.answer", huge.BadRequest()!.FieldViolations[0].Field);
        Assert.Null((await RowAsync(Server, member.Uid))!.SecurityQuestion);
    }

    private async Task ExpectOriginalInvalid(UpdateCredentialRequest request) =>
        await Errors.ExpectAsync(() => Client.UpdateCredentialAsync(request).ResponseAsync, StatusCode.PermissionDenied, "UpdateCredentialResponse.ErrOriginalPasswordInvalid");
}

public sealed class UpdateCredentialBehaviour_Sqlite(SqliteCredentialFixture f) : UpdateCredentialBehaviour<SqliteCredentialFixture>(f);

public sealed class UpdateCredentialBehaviour_Postgres(PostgresCredentialFixture f) : UpdateCredentialBehaviour<PostgresCredentialFixture>(f);
