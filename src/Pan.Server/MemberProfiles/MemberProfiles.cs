using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Members;
using Pan.General.Member;
using Pan.Server.Accounts;
using Pan.Server.Credentials;
using Pan.Server.Deletion;
using Pan.Server.DisplayNames;
using Pan.Server.Errors;
using Pan.Server.Members;
using Pan.Server.Network;
using Pan.Server.Tokens;
using NewErr = Pan.General.Member.ErrNewMember.Types.General;
using NewPwdErr = Pan.General.Member.NewMemberResponse.Types.Err;
using ValidateErr = Pan.General.Member.ErrValidateNewMember.Types.General;
using SwitchErr = Pan.General.Member.SwitchMemberResponse.Types.Err;

namespace Pan.Server.MemberProfiles;

/// <summary>
/// Several member profiles under one phone: NewMember adds one (never past Pan:Members:MaxPerPhone, even under
/// parallel requests), ValidateNewMember brings a member that has no phone yet (imported or guest) under the caller's
/// phone (with the joining member's update-credential verify token, spent in the move's transaction), and SwitchMember hands out an auth token for another member of the same phone after a step-up (see
/// <see cref="SwitchMethod"/> for which proofs reach which member).
/// </summary>
public sealed class MemberProfiles(
    PanDbContext db, TokenService tokens, MemberSlots slots, DisplayNameDirectory names, ObjectMapper mapper, TimeProvider clock,
    CredentialStore credentials, PasswordPolicy policy)
{
    public async Task<NewMemberResponse> NewMemberAsync(NewMemberRequest request, HttpContext http, CancellationToken cancellationToken)
    {
        var auth = await tokens.ValidateAuthTokenAsync(request.AuthToken, cancellationToken)
            ?? throw PanError.Of(NewErr.TokenInvalid, StatusCode.Unauthenticated, "The auth_token is invalid or expired.");
        Registration.RegisterFlow.ValidateAppId(request.AppId);
        await RequirePhoneHolderAsync(auth, "auth_token", NewErr.TokenInvalid, NewErr.Failed, cancellationToken);

        if (!string.IsNullOrEmpty(request.ConfirmPassword) && string.IsNullOrEmpty(request.Password))
        {
            throw PanError.Of(NewPwdErr.PasswordIsEmpty, StatusCode.InvalidArgument, "The password is empty.", new FieldViolation("password", "is empty"));
        }

        if (request.Password != request.ConfirmPassword)
        {
            throw PanError.Of(NewPwdErr.PasswordConfirmingFailed, StatusCode.InvalidArgument, "The passwords differ.", new FieldViolation("confirm_password", "differs from password"));
        }

        var name = CheckName(request.DisplayName, "display_name", NewErr.DisplayNameInvalid);
        if (await names.IsTakenAsync(name, cancellationToken))
        {
            throw PanError.Of(NewErr.DisplayNameInvalid, StatusCode.AlreadyExists, "The display name is taken.", new FieldViolation("display_name", "is taken"));
        }

        var prepared = await PrepareCredentialsAsync(request, name, auth.AccountId, cancellationToken);

        var now = clock.GetUtcNow();
        var owner = await db.Members.AsNoTracking().FirstAsync(m => m.Uid == auth.Uid, cancellationToken);
        var member = new Member
        {
            DisplayName = name,
            DisplayNameKey = DisplayNameRules.Key(name),
            MigrationStatus = (int)MemberMigrationStatusResponse.Types.MigrationStatus.StatusNewPan,
            ActivateIp = http.ClientIpText(),
            ActivateDate = now,
            Locale = owner.Locale,
        };
        var (created, failure) = await slots.AddAsync(auth.AccountId, member, cancellationToken,
            prepared is null ? null : (m, ct) => credentials.SaveAsync(m.Uid, prepared, ct),
            first: ct => HoldPhoneSessionAsync(auth, () => PanError.Of(NewErr.TokenInvalid, StatusCode.Unauthenticated, "The auth_token is invalid or expired."), ct));
        return failure switch
        {
            SlotFailure.None => new NewMemberResponse { Object = await MapAsync(created!.Uid, cancellationToken) },
            SlotFailure.Full => throw PanError.Of(NewErr.MaximumMember, StatusCode.ResourceExhausted, "This phone already has the most members it may hold."),
            SlotFailure.AccountGone => throw PanError.Of(NewErr.TokenInvalid, StatusCode.Unauthenticated, "The auth_token is invalid or expired."),
            _ => throw PanError.Of(NewErr.DisplayNameInvalid, StatusCode.AlreadyExists, "The display name is taken.", new FieldViolation("display_name", "is taken")),
        };
    }

    public async Task<ValidateNewMemberResponse> ValidateNewMemberAsync(ValidateNewMemberRequest request, CancellationToken cancellationToken)
    {
        var auth = await tokens.ValidateAuthTokenAsync(request.CurrentPhoneAuthToken, cancellationToken)
            ?? throw PanError.Of(ValidateErr.TokenInvalid, StatusCode.Unauthenticated, "The current_phone_auth_token is invalid or expired.");
        var joining = await tokens.ValidateAccessTokenAsync(request.NewMemberAccessToken, cancellationToken)
            ?? throw PanError.Of(ValidateErr.TokenInvalid, StatusCode.Unauthenticated, "The new_member_access_token is invalid or expired.");
        await RequirePhoneHolderAsync(auth, "current_phone_auth_token", ValidateErr.TokenInvalid, ValidateErr.Failed, cancellationToken);

        var member = await db.Members.Include(m => m.Account).FirstAsync(m => m.Uid == joining.Uid, cancellationToken);
        if (member.Account!.PhoneE164 is not null)
        {
            throw PanError.Of(ValidateErr.ExistingPhone, StatusCode.AlreadyExists, "This member already belongs to a phone.");
        }

        // Why: the move makes the phone's sign-in reach the joining member (and ends its other sessions), and
        // new_member_access_token alone is what every app of the family holds (SECURITY 4 and 13); the joining member
        // proves itself as for a credential change. Checked here too so a bad token is refused before the name check.
        if (!await tokens.VerifyTokenIsLiveAsync(request.VerifyToken, member.Uid, VerifyPurposes.UpdateCredential, cancellationToken))
        {
            throw JoiningProofInvalid();
        }

        string? newName = null;
        if (!string.IsNullOrEmpty(request.DisplayName))
        {
            newName = CheckName(request.DisplayName, "display_name", ValidateErr.NameInvalid);
            if (await names.IsTakenAsync(newName, cancellationToken, member.Uid))
            {
                throw PanError.Of(ValidateErr.NameInvalid, StatusCode.AlreadyExists, "The display name is taken.", new FieldViolation("display_name", "is taken"));
            }
        }

        // Why: the member's old sessions were opened under its phoneless account; they end in the move's transaction
        // (SECURITY 21), so a failure leaves the member where it was with its sessions, never moved with them still live.
        // The verify token is spent in that transaction too: a refused or failed move leaves it usable.
        return await slots.MoveAsync(member.Uid, auth.AccountId, newName, cancellationToken, async (uid, ct) =>
        {
            if (!await tokens.ConsumeVerifyTokenAsync(request.VerifyToken, uid, VerifyPurposes.UpdateCredential, ct))
            {
                throw JoiningProofInvalid();
            }

            await tokens.RevokeMemberAsync(uid, ct);
        }, first: ct => HoldPhoneSessionAsync(
            auth, () => PanError.Of(ValidateErr.TokenInvalid, StatusCode.Unauthenticated, "The current_phone_auth_token is invalid or expired."), ct)) switch
        {
            SlotFailure.None => new ValidateNewMemberResponse { Object = await MapAsync(member.Uid, cancellationToken) },
            SlotFailure.Full => throw PanError.Of(ValidateErr.MaximumMember, StatusCode.ResourceExhausted, "This phone already has the most members it may hold."),
            SlotFailure.PhoneTaken => throw PanError.Of(ValidateErr.ExistingPhone, StatusCode.AlreadyExists, "This member already belongs to a phone."),
            SlotFailure.AccountGone => throw PanError.Of(ValidateErr.TokenInvalid, StatusCode.Unauthenticated, "The current_phone_auth_token is invalid or expired."),
            _ => throw PanError.Of(ValidateErr.NameInvalid, StatusCode.AlreadyExists, "The display name is taken.", new FieldViolation("display_name", "is taken")),
        };
    }

    public async Task<SwitchMemberResponse> SwitchAsync(SwitchMemberRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.SwitchToObjectId))
        {
            throw PanError.Of(SwitchErr.ObjectIdrequired, StatusCode.InvalidArgument, "switch_to_object_id is required.", new FieldViolation("switch_to_object_id", "is required"));
        }

        if (!Guid.TryParse(request.SwitchToObjectId, out var target))
        {
            throw PanError.InvalidArgument("switch_to_object_id", "is not a valid object id");
        }

        Registration.RegisterFlow.ValidateAppId(request.AppId);
        var caller = await tokens.ValidateAccessTokenAsync(request.PanAccessToken, cancellationToken)
            ?? throw PanError.Of(SwitchErr.Failed, StatusCode.Unauthenticated, "The pan_access_token is invalid or expired.");
        var to = await db.Members.AsNoTracking()
            .FirstOrDefaultAsync(m => m.ObjectId == target && m.AccountId == caller.AccountId && m.Deleted == null, cancellationToken)
            ?? throw PanError.Of(SwitchErr.Failed, StatusCode.NotFound, "No such member under this phone.");
        var proof = await tokens.FindVerifyTokenAsync(request.VerifyToken, cancellationToken) ?? throw VerifyTokenInvalid();
        var authMethod = SwitchMethod(caller, to.Uid, proof.Uid, proof.Purpose)
            ?? throw (proof.Uid == caller.Uid && proof.Purpose == VerifyPurposes.SwitchMemberByPassword
                ? PanError.Of(SwitchErr.VerifyTokenInvalid, StatusCode.PermissionDenied,
                    "This session proved one member, not the phone: switch with the SMS step-up (VerifyPhoneCode) or the target member's own password.")
                : VerifyTokenInvalid());

        // Why the proof overload: the verify token is spent in the transaction that opens the target's session, so a
        // session that cannot be opened leaves the token usable (SECURITY 21).
        var auth = await tokens.IssueAuthTokenAsync(
                authMethod,
                async ct => await tokens.ConsumeVerifyTokenAsync(request.VerifyToken, proof.Uid, proof.Purpose, ct) ? AuthSubject.Of(to) : null,
                cancellationToken)
            ?? throw VerifyTokenInvalid();
        return new SwitchMemberResponse { AuthToken = auth.Token, ObjectId = to.ObjectId.ToString() };
    }

    /// <summary>
    /// The auth method of the session a switch with this verify token opens, or null when the token does not allow it.
    /// A proof of the phone (the caller's SMS step-up) switches to any member of the phone, and so does a proof of the
    /// caller's own password from a session that itself proved the phone: both open a phone-level session. A proof of
    /// the target's own password (VerifyMemberByPassword naming the target) switches to that member from any session,
    /// as signing in with that password would: the session it opens is member-bound (auth-by-password) unless the caller's
    /// session proved the phone. Why not the caller's own password from a member-bound session: it is what the caller
    /// signed in with, so it proves nothing more than the session already did, and never the phone (SECURITY 13 and 19).
    /// </summary>
    private static string? SwitchMethod(AccessTokenInfo caller, long targetUid, long proofUid, string purpose) => purpose switch
    {
        VerifyPurposes.SwitchMember when proofUid == caller.Uid => AuthMethods.Switch,
        VerifyPurposes.SwitchMemberByPassword when proofUid == caller.Uid && caller.ProvesThePhone => AuthMethods.Switch,
        VerifyPurposes.SwitchMemberByPassword when proofUid == targetUid => caller.ProvesThePhone ? AuthMethods.Switch : AuthMethods.Password,
        _ => null,
    };

    private static Grpc.Core.RpcException JoiningProofInvalid() =>
        PanError.Of(ValidateErr.Failed, StatusCode.PermissionDenied,
            "A verify_token for update-credential of the joining member is required: it is missing, wrong, expired, used or for another member or operation.");

    private static Grpc.Core.RpcException VerifyTokenInvalid() =>
        PanError.Of(SwitchErr.VerifyTokenInvalid, StatusCode.PermissionDenied, "The verify_token is invalid, expired, used or for another operation.");

    /// <summary>
    /// Checks and hashes the optional password and security question of a new member before it is created (they are
    /// stored in the creating transaction). A password the policy refuses: INVALID_ARGUMENT ErrNewMember.FAILED naming
    /// password, with the reason (NewMemberResponse.Err only knows empty and unconfirmed passwords); a bad security
    /// question: INVALID_ARGUMENT naming security_question.question/answer. A question sent empty counts as none.
    /// </summary>
    private async Task<PreparedCredentials?> PrepareCredentialsAsync(NewMemberRequest request, string name, long accountId, CancellationToken cancellationToken)
    {
        var password = string.IsNullOrEmpty(request.Password) ? null : request.Password;
        var question = Credentials.CredentialChanges.SetQuestion(request.SecurityQuestion);
        if (question is not null && SecurityQuestions.Problem(question, "security_question") is { } bad)
        {
            throw PanError.InvalidArgument(bad);
        }

        if (password is not null)
        {
            var phone = await db.Accounts.AsNoTracking().Where(a => a.Id == accountId).Select(a => a.PhoneE164).FirstOrDefaultAsync(cancellationToken);
            if (policy.Check(password, [phone, name]) is { } problem)
            {
                throw PanError.Of(NewErr.Failed, StatusCode.InvalidArgument, $"The password {problem.Reason}.", new FieldViolation("password", problem.Reason));
            }
        }

        return password is null && question is null
            ? null
            : await credentials.PrepareAsync(password, question?.Question, question?.Answer, cancellationToken);
    }

    /// <summary>
    /// Holds the phone member's row and the auth token's session, first in the transaction that adds (NewMember) or
    /// moves (ValidateNewMember) a member under the phone; throws <paramref name="ended"/>'s error when either ended.
    /// Why: the auth token was checked before that transaction, and that member's suspension or deletion (or its logout,
    /// a password change) may have ended the session since or (PostgreSQL) be ending it still; a member added or moved
    /// then rode on an ended session. Held, either the end commits first and the call is TOKEN_INVALID, as after it,
    /// writing nothing, or the end waits for the call's commit
    /// (MemberProfileBehaviour.NewMember_WhileThePhonesMembersSuspensionIsUncommitted_*,
    /// ValidateNewMemberBehaviour.ValidateNewMember_WhileThePhonesMembersSuspensionCommits_*).
    /// Why the member row before the session: whatever ends sessions writes the member row first (LiveSessions); the
    /// other order deadlocked with the deletion of the phone's last member on PostgreSQL.
    /// </summary>
    private async Task HoldPhoneSessionAsync(AuthTokenClaims auth, Func<Exception> ended, CancellationToken cancellationToken)
    {
        if (!await LiveMembers.HoldAsync(db, auth.Uid, cancellationToken)
            || !await LiveMembers.HoldRowAsync(db, "auth_sessions", "id", auth.SessionId, "revoked", nameof(HoldPhoneSessionAsync), cancellationToken))
        {
            throw ended();
        }
    }

    /// <summary>
    /// Refuses an auth token (<paramref name="field"/>) that cannot take members in (NewMember, ValidateNewMember).
    /// Why: only a phone takes members in (MAXIMUM_MEMBER counts the phone's members); an imported or guest member's
    /// auth token names no phone, and a member created or moved there would be under none, or under a stranger's
    /// account (FAILED_PRECONDITION <paramref name="failed"/>). A deleted account (its last member's deletion committed
    /// after the token was checked) has ended its sessions (UNAUTHENTICATED <paramref name="tokenInvalid"/>). A member
    /// added or moved under the phone is one more profile of the phone's holder and takes one of its places; a sign-in
    /// that proved one member (password, email code, hand-off, social login) is no proof of the phone
    /// (FAILED_PRECONDITION <paramref name="failed"/>).
    /// </summary>
    private async Task RequirePhoneHolderAsync<TEnum>(
        AuthTokenClaims auth, string field, TEnum tokenInvalid, TEnum failed, CancellationToken cancellationToken)
        where TEnum : struct, Enum
    {
        var account = await db.Accounts.AsNoTracking().Where(a => a.Id == auth.AccountId)
            .Select(a => new { HasPhone = a.PhoneE164 != null, Gone = a.Deleted != null }).FirstAsync(cancellationToken);
        if (account.Gone)
        {
            throw PanError.Of(tokenInvalid, StatusCode.Unauthenticated, $"The {field} is invalid or expired.");
        }

        if (!account.HasPhone)
        {
            throw PanError.Of(failed, StatusCode.FailedPrecondition, $"The {field} is not for a phone; sign in by phone first.");
        }

        if (AuthMethods.IsMemberBound(auth.AuthMethod))
        {
            throw PanError.Of(failed, StatusCode.FailedPrecondition, $"The {field} proves one member, not the phone; sign in by phone first.");
        }
    }

    private async Task<Pan.Atom.Member.Object> MapAsync(long uid, CancellationToken cancellationToken)
    {
        var member = await db.Members.AsNoTracking().Include(m => m.Account).FirstAsync(m => m.Uid == uid, cancellationToken);
        return mapper.ToObject(member, self: true);
    }

    private static string CheckName<TEnum>(string name, string field, TEnum error)
        where TEnum : struct, Enum
    {
        var problem = DisplayNameRules.Check(name);
        if (problem != DisplayNameProblem.None)
        {
            var why = MemberServiceV2Endpoint.Describe(problem);
            throw PanError.Of(error, StatusCode.InvalidArgument, why, new FieldViolation(field, why));
        }

        return DisplayNameRules.Clean(name);
    }
}
