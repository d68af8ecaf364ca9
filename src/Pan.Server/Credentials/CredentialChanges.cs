using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.General.Member;
using Pan.Server.Deletion;
using Pan.Server.Email;
using Pan.Server.Errors;
using Pan.Server.Suspension;
using Pan.Server.Tokens;
using SetErr = Pan.General.Member.ErrSetMemberPassword.Types.General;
using UpdateErr = Pan.General.Member.UpdateCredentialResponse.Types.Err;

namespace Pan.Server.Credentials;

/// <summary>
/// SetMemberPassword (a member's first password) and UpdateCredential (password, email and security question changes
/// behind the current password or a fresh verify token). A password change ends the member's other sessions.
/// </summary>
public sealed class CredentialChanges(
    PanDbContext db,
    TokenService tokens,
    CredentialMembers members,
    CredentialStore store,
    PasswordPolicy policy,
    EmailChanges emails,
    TimeProvider clock,
    ILogger<CredentialChanges> logger)
{
    /// <summary>Longest email accepted before asking the email feature (RFC 5321 path limit).</summary>
    public const int MaxEmailLength = 254;

    /// <summary>Longest email_verification_redirect accepted before asking the email feature.</summary>
    public const int MaxRedirectLength = 2048;

    /// <summary>
    /// Sets the password of the access token's member when it has none. Proof: <c>reset_code</c> carries a verify token
    /// for <c>update-credential</c> bound to that member (VerifyPhoneCode, VerifyMemberByPassword or VerifyEmailCode),
    /// as UpdateCredential asks for a change. Why: binding a first password is a credential change, and the access token
    /// alone is what every app of the family holds; a password set with it alone became, through VerifyMemberByPassword,
    /// the step-up for switching and deleting (SECURITY 4 and 13). Errors: a bad access_token UNAUTHENTICATED
    /// ErrSetMemberPassword.FAILED; an empty password, a confirmation that differs or a password the policy refuses
    /// INVALID_ARGUMENT ErrSetMemberPassword.PWD_ISSUE naming the field, with the reason; a missing, unknown, expired,
    /// used, another member's or another operation's verify token PERMISSION_DENIED ErrSetMemberPassword.FAILED; a
    /// member that already has a password FAILED_PRECONDITION ErrSetMemberPassword.FAILED (change it with
    /// UpdateCredential, or reset it). The token is spent in the transaction that writes the password: any refusal or
    /// failure leaves it usable and nothing written. A first password ends no session (nothing was protected by a
    /// password before).
    /// </summary>
    public async Task<SetMemberPasswordResponse> SetMemberPasswordAsync(SetMemberPasswordRequest request, CancellationToken cancellationToken)
    {
        var caller = await tokens.ValidateAccessTokenAsync(request.AccessToken, cancellationToken)
            ?? throw AccessTokenInvalid();
        if (string.IsNullOrEmpty(request.Password))
        {
            throw PanError.Of(SetErr.PwdIssue, StatusCode.InvalidArgument, "The password is required.", new FieldViolation("password", "is required"));
        }

        if (request.Password != request.ConfirmPassword)
        {
            throw PanError.Of(SetErr.PwdIssue, StatusCode.InvalidArgument, "confirm_password differs from password.", new FieldViolation("confirm_password", "differs from password"));
        }

        var target = await members.FindAsync(caller.Uid, caller.AccountId, null, cancellationToken)
            ?? throw AccessTokenInvalid();
        if (policy.Check(request.Password, target.PolicyContext()) is { } problem)
        {
            throw PanError.Of(SetErr.PwdIssue, StatusCode.InvalidArgument, $"The password {problem.Reason}.", new FieldViolation("password", problem.Reason));
        }

        // Why checked here too: the token is spent only in the transaction, after the password is hashed; a bad one is
        // refused before that work.
        if (!await tokens.VerifyTokenIsLiveAsync(request.ResetCode, target.Uid, VerifyPurposes.UpdateCredential, cancellationToken))
        {
            throw SetProofInvalid();
        }

        var prepared = await store.PrepareAsync(request.Password, null, null, cancellationToken);
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            // Why first: orders the write against a deletion of the member (LiveMembers); a member deleted meanwhile is
            // answered as its access token now is.
            if (!await LiveMembers.LockAsync(db, target.Uid, cancellationToken))
            {
                throw AccessTokenInvalid();
            }

            if (!await SpendVerifyTokenAsync(request.ResetCode, target.Uid, cancellationToken))
            {
                throw SetProofInvalid();
            }

            if (!await store.WriteFirstPasswordAsync(target.Uid, prepared.PasswordHash!, cancellationToken))
            {
                throw PanError.Of(SetErr.Failed, StatusCode.FailedPrecondition, "The member already has a password; change it with UpdateCredential.");
            }

            await transaction.CommitAsync(cancellationToken);
        }

        logger.LogInformation("Set the first password of member {Uid}", target.Uid);
        return new SetMemberPasswordResponse();

        static RpcException AccessTokenInvalid() =>
            PanError.Of(SetErr.Failed, StatusCode.Unauthenticated, "The access_token is invalid or expired.");

        static RpcException SetProofInvalid() =>
            PanError.Of(SetErr.Failed, StatusCode.PermissionDenied,
                "A verify token for update-credential (reset_code) is required: it is missing, wrong, expired, used or for another member or operation.");
    }

    /// <summary>
    /// Changes the password, email and/or security question of the auth token's member or, with object_id, of another
    /// live member under the same phone when the auth token's session proved the phone (a member-bound session's
    /// sibling is answered as a stranger: NOT_FOUND ErrFailed). Proof: a verify_token for <c>update-credential</c> bound to that member (from
    /// VerifyPhoneCode, VerifyMemberByPassword or VerifyEmailCode; consumed only when everything else is valid), or
    /// else its current password (counted by the failure counter). Errors: bad pan_auth_token UNAUTHENTICATED
    /// ErrFailed; malformed object_id, nothing to change, a bad security_question, email or redirect INVALID_ARGUMENT
    /// naming the field; no such member NOT_FOUND ErrFailed; confirmation differs INVALID_ARGUMENT
    /// ErrNewPasswordConfirmingFailed; policy INVALID_ARGUMENT ErrNewPasswordRule with the reason; no valid proof
    /// (wrong, locked, missing password; bad, used or foreign verify token) PERMISSION_DENIED ErrOriginalPasswordInvalid;
    /// email of another member ALREADY_EXISTS ErrEmailDuplicated. The proof is checked first, then the email (outside
    /// any transaction; a refused email changes and spends nothing), then one transaction spends the verify token and
    /// writes the password, security question and email (unverified, with its challenge), so a failure there leaves
    /// the token usable and nothing written. The verification mail leaves after the commit; when SMTP gives up the
    /// change stays and the answer is UNAVAILABLE ErrFailed (ask for a new mail with SendEmailVerification). A new
    /// password ends every other session of the member (the caller's auth session stays).
    /// </summary>
    public async Task<UpdateCredentialResponse> UpdateCredentialAsync(UpdateCredentialRequest request, CancellationToken cancellationToken)
    {
        var claims = await tokens.ValidateAuthTokenAsync(request.PanAuthToken, cancellationToken)
            ?? throw AuthTokenInvalid();
        if (!CredentialMembers.TryParseObjectId(request.ObjectId, out var objectId))
        {
            throw PanError.InvalidArgument("object_id", "is not a valid object id");
        }

        var question = SetQuestion(request.SecurityQuestion);
        var newPassword = string.IsNullOrEmpty(request.NewPassword) ? null : request.NewPassword;
        var email = string.IsNullOrEmpty(request.Email) ? null : request.Email.Trim();
        ValidateShape(request, newPassword, email, question);

        // Why: a session that proved one member (password, email code, hand-off, social login, passkey) reaches no other
        // member of the phone (OtherMember and QueryMemberCredentialStatus answer it as they answer a stranger), so a
        // sibling's object id is a stranger's here too, before any proof is looked at: the sibling's password or verify
        // token does not make such a session one that may change it.
        var reachable = objectId is not { } id || AuthMethods.ProvesThePhone(claims.AuthMethod) || id == claims.ObjectId;
        var target = (reachable ? await members.FindAsync(claims.Uid, claims.AccountId, objectId, cancellationToken) : null)
            ?? throw NoSuchMember();
        if (newPassword is not null && policy.Check(newPassword, target.PolicyContext(email)) is { } problem)
        {
            throw PanError.Of(UpdateErr.NewPasswordRule, StatusCode.InvalidArgument, $"The new password {problem.Reason}.", new FieldViolation("new_password", problem.Reason));
        }

        var useVerifyToken = !string.IsNullOrEmpty(request.VerifyToken);
        if (!useVerifyToken)
        {
            if (string.IsNullOrEmpty(request.OriginalPassword)
                || await store.CheckPasswordAsync(target.Uid, request.OriginalPassword, cancellationToken) != SecretCheck.Ok)
            {
                throw OriginalPasswordInvalid();
            }
        }

        // Why checked here too: the token is spent only in the transaction, which comes after the new password is
        // hashed and the email is checked; a bad one is refused before that work.
        if (useVerifyToken && !await tokens.VerifyTokenIsLiveAsync(request.VerifyToken, target.Uid, VerifyPurposes.UpdateCredential, cancellationToken))
        {
            throw OriginalPasswordInvalid();
        }

        // Why planned before the transaction: checking the address and reserving its mail with the caps write their
        // own send log and must not hold the database's write lock meanwhile (SQLite serialises writers). A refused
        // email changes nothing and spends nothing.
        var plan = email is null ? null : await emails.PlanAsync(target.Uid, email,
            string.IsNullOrEmpty(request.EmailVerificationRedirect) ? null : request.EmailVerificationRedirect, cancellationToken);
        if (plan is not null && EmailFailure(plan.Result) is { } failure)
        {
            throw failure;
        }

        IssuedEmailCode? issued;
        try
        {
            var prepared = await store.PrepareAsync(newPassword, question?.Question, question?.Answer, cancellationToken);
            issued = await WriteAsync(request, claims.SessionId, claims.Uid, target.Uid, useVerifyToken, prepared, newPassword is not null, plan?.Change, cancellationToken);
        }
        catch when (plan is not null)
        {
            await emails.AbandonAsync(plan);
            throw;
        }

        if (plan is not null && issued is not null)
        {
            await SendEmailAsync(plan, issued, cancellationToken);
        }

        return new UpdateCredentialResponse();
    }

    /// <summary>
    /// The whole change in one transaction (SECURITY 21): the verify token's use, the password and security question,
    /// the end of the other sessions and the new (unverified) email with its challenge. A failure anywhere leaves the
    /// token usable and nothing written; the mail goes out only after the commit.
    /// </summary>
    private async Task<IssuedEmailCode?> WriteAsync(
        UpdateCredentialRequest request, long sessionId, long callerUid, long uid, bool useVerifyToken, PreparedCredentials prepared, bool newPassword,
        PlannedEmailChange? change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            try
            {
                // Why first: orders the change against a deletion of the member (LiveMembers); a member deleted since it
                // was found is answered as one that was never found, and nothing is written or mailed.
                if (!await LiveMembers.LockAsync(db, uid, cancellationToken))
                {
                    throw NoSuchMember();
                }

                // Why the caller's session held and checked again, after the member's row: the auth token was checked
                // before this transaction, and a suspension of the caller, or a password change or reset that ended its
                // session, may have committed since or (PostgreSQL) be committing still; a change written then rode on an
                // ended session, and could set back a password the member had just changed to lock its holder out. Either
                // that end committed first and nothing is written (MEMBER_SUSPENDED for a suspension, as a sign-in racing
                // one answers; else the answer for an ended auth token), or it waits for this commit
                // (UpdateCredentialBehaviour.PasswordChange_WhileASuspensionOrAResetEndingItsSessionIsUncommitted_WritesNothing).
                if (!await LiveMembers.HoldRowAsync(db, "auth_sessions", "id", sessionId, "revoked", nameof(UpdateCredentialAsync), cancellationToken))
                {
                    await MemberSuspensions.RefuseAsync(db, callerUid, clock.GetUtcNow(), cancellationToken);
                    throw AuthTokenInvalid();
                }

                if (useVerifyToken && !await SpendVerifyTokenAsync(request.VerifyToken, uid, cancellationToken))
                {
                    throw OriginalPasswordInvalid();
                }

                await store.SaveAsync(uid, prepared, cancellationToken);
                if (newPassword)
                {
                    await store.EndOtherSessionsAsync(uid, sessionId, cancellationToken);
                }

                var issued = change is null ? null : await emails.RecordAsync(change, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return issued;
            }
            catch (DbUpdateConcurrencyException ex) when (attempt < 3 && ex.Entries.Any(e => e.Entity is Pan.Data.Members.Member))
            {
                // A concurrent profile edit bumped the member's version under the new email; read again and retry (the
                // whole transaction: the token's use rolled back with it).
                await transaction.RollbackAsync(cancellationToken);
            }
        }
    }

    /// <summary>
    /// Mails the committed email change. Why not UNAVAILABLE alone when SMTP gives up: the change (and the verify
    /// token's use) is committed, so repeating the request would be refused; the member asks for a new mail instead.
    /// </summary>
    private async Task SendEmailAsync(EmailChangePlan plan, IssuedEmailCode issued, CancellationToken cancellationToken)
    {
        try
        {
            await emails.SendAsync(plan, issued, cancellationToken);
        }
        catch (DependencyUnavailableException)
        {
            throw PanError.Of(UpdateErr.Failed, StatusCode.Unavailable,
                "The change was saved, but the verification mail could not be sent; ask for a new one with SendEmailVerification.");
        }
    }

    private Task<bool> SpendVerifyTokenAsync(string token, long uid, CancellationToken cancellationToken) =>
        tokens.ConsumeVerifyTokenAsync(token, uid, VerifyPurposes.UpdateCredential, cancellationToken);

    /// <summary>How UpdateCredential reports an email the email feature refused (null: it was accepted).</summary>
    public static RpcException? EmailFailure(EmailChangeResult result) => result switch
    {
        EmailChangeResult.Sent => null,
        EmailChangeResult.Taken => PanError.Of(UpdateErr.EmailDuplicated, StatusCode.AlreadyExists, "The email already belongs to another member.", new FieldViolation("email", "belongs to another member")),
        EmailChangeResult.InvalidEmail => PanError.InvalidArgument("email", "is not a valid email address"),
        EmailChangeResult.RedirectNotAllowed => PanError.InvalidArgument("email_verification_redirect", "is not on the allowed hosts"),
        EmailChangeResult.MemberGone => NoSuchMember(),
        _ => throw new ArgumentOutOfRangeException(nameof(result), result, "Unknown email change result."),
    };

    /// <summary>The security question to set, or null when the request leaves it (unset, or sent empty by a JSON client).</summary>
    public static SecurityQuestion? SetQuestion(SecurityQuestion? question) =>
        question is null || (string.IsNullOrEmpty(question.Question) && string.IsNullOrEmpty(question.Answer)) ? null : question;

    private static void ValidateShape(UpdateCredentialRequest request, string? newPassword, string? email, SecurityQuestion? question)
    {
        if (newPassword is null && email is null && question is null && string.IsNullOrEmpty(request.ConfirmNewPassword))
        {
            throw PanError.InvalidArgument("new_password", "nothing to change: give new_password, email or security_question");
        }

        if (request.NewPassword != request.ConfirmNewPassword)
        {
            throw PanError.Of(UpdateErr.NewPasswordConfirmingFailed, StatusCode.InvalidArgument, "confirm_new_password differs from new_password.",
                new FieldViolation("confirm_new_password", "differs from new_password"));
        }

        if (question is not null && SecurityQuestions.Problem(question, "security_question") is { } bad)
        {
            throw PanError.InvalidArgument(bad);
        }

        if (email is not null && (email.Length > MaxEmailLength || !email.Contains('@', StringComparison.Ordinal)))
        {
            throw PanError.InvalidArgument("email", "is not a valid email address");
        }

        if (request.EmailVerificationRedirect.Length > MaxRedirectLength)
        {
            throw PanError.InvalidArgument("email_verification_redirect", $"must be at most {MaxRedirectLength} characters");
        }
    }

    private static RpcException AuthTokenInvalid() =>
        PanError.Of(UpdateErr.Failed, StatusCode.Unauthenticated, "The pan_auth_token is invalid or expired.");

    private static RpcException NoSuchMember() =>
        PanError.Of(UpdateErr.Failed, StatusCode.NotFound, "No such member under this phone.");

    private static RpcException OriginalPasswordInvalid() =>
        PanError.Of(UpdateErr.OriginalPasswordInvalid, StatusCode.PermissionDenied,
            "The original_password or verify_token is wrong, expired or missing.");
}
