using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Email;
using Pan.General.Member;
using Pan.Server.Data;
using Pan.Server.Deletion;
using Pan.Server.Errors;
using Pan.Server.Links;
using Pan.Server.Network;
using Pan.Server.Tokens;
using SendErr = Pan.General.Member.SendEmailVerificationResponse.Types.Err;
using SetErr = Pan.General.Member.ErrSetMemberEmail.Types.General;
using VerifyErr = Pan.General.Member.VerifyEmailCodeResponse.Types.Err;

namespace Pan.Server.Email;

/// <summary>How a verification link or code was judged; <paramref name="Taken"/> when another member verified the address first.</summary>
public sealed record EmailConfirmation(bool Confirmed, long Uid, Uri? Redirect, bool Taken = false);

/// <summary>
/// SendEmailVerification mails a code and a link for the signed-in member's current email (verified or not: a verified
/// address gets a fresh code as a step-up); VerifyEmailCode takes the code alone, marks the email verified and returns a
/// verify token (purpose update-credential, or export-data or add-passkey when its session_token, Pan's addition, asks); the hosted page /account/verify-email does the same with the link.
/// A code counts only while the member still has the address it was mailed to.
/// Only a verified address is unique (ux_members_email_key is filtered on email_verified), so several members may hold
/// one address unverified; the first to verify it owns it, and the others' verifications are EMAIL_EXISTS (the seed's
/// ErrSetMemberEmail.EMAIL_EXISTS, 1002 like VerifyEmailCode's own ErrFailed), decided by the index under a race.
/// Why the others' unverified claims stay rather than being cleared: they are data on other members' profiles that
/// this member's verification has no business editing, they reserve nothing and can never be verified while the
/// address has its owner, and every look-up of an address's owner reads verified addresses only.
/// </summary>
/// <remarks>
/// Reading of SendEmailVerificationRequest: <c>uid</c> (int32 in the seed) is optional; when non-zero it must be the
/// caller's own uid (FAILED, PERMISSION_DENIED otherwise). <c>session_token</c> is not used: the mailed code identifies
/// the verification by itself; it is accepted (≤ 128 characters) and ignored.
/// </remarks>
public sealed class EmailVerification(
    PanDbContext db,
    TokenService tokens,
    LinkBuilder links,
    EmailCodes codes,
    DeliveryGate gate,
    EmailChanges changes,
    TimeProvider clock)
{
    public async Task<SendEmailVerificationResponse> SendAsync(SendEmailVerificationRequest request, HttpContext http, CancellationToken cancellationToken)
    {
        var redirect = links.Redirect(request.Redirect, "redirect");
        if (request.SessionToken.Length > 128)
        {
            throw PanError.InvalidArgument("session_token", "is too long");
        }

        var caller = await tokens.ValidateAccessTokenAsync(request.PanAccessToken, cancellationToken)
            ?? throw PanError.Of(SendErr.Failed, StatusCode.Unauthenticated, "The pan_access_token is invalid or expired.");
        if (request.Uid != 0 && request.Uid != caller.Uid)
        {
            throw PanError.Of(SendErr.Failed, StatusCode.PermissionDenied, "uid must be the caller's own uid (or 0).");
        }

        var member = await db.Members.AsNoTracking().FirstOrDefaultAsync(m => m.Uid == caller.Uid && m.Deleted == null, cancellationToken)
            ?? throw PanError.Of(SendErr.Failed, StatusCode.Unauthenticated, "The member no longer exists.");
        if (member.Email is not { } address || member.EmailKey is not { } key)
        {
            throw PanError.Of(SendErr.Failed, StatusCode.FailedPrecondition, "The member has no email address; set one first.");
        }

        var reservation = await gate.ReserveAsync(DeliveryPurposes.VerifyEmail, member.Uid, EmailAddresses.Hash(address), ClientAddress.Of(http), cancellationToken);
        if (!reservation.Allowed)
        {
            throw PanError.With(SendErr.ReachSendLimit, StatusCode.ResourceExhausted,
                $"Too many emails were sent; try again in {reservation.RetryAfterSeconds} s.", new Dictionary<string, string>(), reservation.RetryAfterSeconds);
        }

        IssuedEmailCode? issued;
        try
        {
            issued = await IssueForLiveMemberAsync(member.Uid, key, redirect, cancellationToken);
        }
        catch
        {
            await gate.FinishAsync(reservation, DeliveryOutcome.Cancelled);
            throw;
        }

        if (issued is null)
        {
            await gate.FinishAsync(reservation, DeliveryOutcome.Cancelled);
            throw PanError.Of(SendErr.Failed, StatusCode.Unauthenticated, "The member no longer exists.");
        }

        await changes.SendVerificationAsync(reservation, member, address, issued, cancellationToken);
        return new SendEmailVerificationResponse();
    }

    public async Task<VerifyEmailCodeResponse> VerifyCodeAsync(VerifyEmailCodeRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Code))
        {
            throw PanError.Of(VerifyErr.CodeInvalid, StatusCode.InvalidArgument, "The code is required.", new FieldViolation("code", "is required"));
        }

        var purpose = TokenPurpose(request.SessionToken);
        var challenge = await codes.FindByCodeAsync(request.Code, EmailPurposes.VerifyEmail, cancellationToken);
        var (confirmation, verify) = challenge is null ? (null, null) : await ConfirmAsync(challenge, purpose, cancellationToken);
        if (confirmation is { Taken: true })
        {
            throw PanError.Of(SetErr.EmailExists, StatusCode.AlreadyExists, "Another member has already verified this email address.");
        }

        if (confirmation is not { Confirmed: true } || verify is null)
        {
            throw PanError.Of(VerifyErr.CodeInvalid, StatusCode.InvalidArgument, "The code is wrong, expired or already used.",
                new FieldViolation("code", "is wrong, expired or already used"));
        }

        return new VerifyEmailCodeResponse { VerifyToken = verify.Token };
    }

    /// <summary>
    /// The purpose of VerifyEmailCode's verify token by its <c>session_token</c> (Pan's addition): update-credential
    /// when empty (the seed's behaviour) or named, export-data or add-passkey when named; anything else is
    /// INVALID_ARGUMENT naming it, before the code is looked at.
    /// </summary>
    /// <remarks>
    /// Why export-data and add-passkey and nothing more: the export shows a member its own data and a passkey signs in
    /// that member only, and the mailbox already proves enough for update-credential, from which a password and then
    /// VerifyMemberByPassword's export-data and add-passkey tokens follow; this spares the detour (a member whose one
    /// proof is its mailbox, a social login's, adds a passkey), it opens nothing new. Switching to or deleting a member
    /// stays behind the phone or a password.
    /// </remarks>
    private static string TokenPurpose(string sessionToken) => sessionToken switch
    {
        "" or VerifyPurposes.UpdateCredential => VerifyPurposes.UpdateCredential,
        VerifyPurposes.ExportData => VerifyPurposes.ExportData,
        VerifyPurposes.AddPasskey => VerifyPurposes.AddPasskey,
        _ => throw PanError.InvalidArgument(
            "session_token", $"must be empty, \"{VerifyPurposes.UpdateCredential}\", \"{VerifyPurposes.ExportData}\" or \"{VerifyPurposes.AddPasskey}\""),
    };

    /// <summary>The hosted page's step: confirms the email behind a link token. Not confirmed when the link is unknown, used or expired.</summary>
    public async Task<EmailConfirmation> ConfirmLinkAsync(string? token, CancellationToken cancellationToken)
    {
        var challenge = await codes.FindByLinkAsync(token, EmailPurposes.VerifyEmail, cancellationToken);
        return challenge is null ? new EmailConfirmation(false, 0, null) : (await ConfirmAsync(challenge, tokenPurpose: null, cancellationToken)).Confirmation;
    }

    /// <summary>
    /// Issues the code in a transaction that takes the member's row first; null, with nothing written, when the member
    /// is deleted. Why: the member was read before; a deletion committed since (or, on PostgreSQL, not yet committed
    /// then) would otherwise be left a code naming its address and be mailed it.
    /// </summary>
    private async Task<IssuedEmailCode?> IssueForLiveMemberAsync(long uid, string key, Uri? redirect, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await LiveMembers.LockAsync(db, uid, cancellationToken))
        {
            return null;
        }

        var issued = await codes.IssueAsync(uid, EmailPurposes.VerifyEmail, key, redirect, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return issued;
    }

    /// <summary>
    /// Judges <paramref name="challenge"/> and, when it holds, spends it, marks the address verified and (with
    /// <paramref name="tokenPurpose"/>) issues VerifyEmailCode's verify token, all in one transaction that takes the
    /// member's row first. Why: the code and the member were read before, and the member's deletion may have committed
    /// since or (PostgreSQL) be running still; a verify token stored after it outlived the deletion, which had already
    /// erased the member's tokens. Under the member's row lock either the deletion commits first and nothing is spent,
    /// marked or issued (not confirmed, as for the code of a gone member), or this commits first and the deletion's
    /// erasers take the token. No token when <paramref name="tokenPurpose"/> is null (the hosted page's link). A suspended
    /// member keeps nothing either way: the code is refused by its step-up token (MEMBER_SUSPENDED), the link as unknown.
    /// </summary>
    private async Task<(EmailConfirmation Confirmation, IssuedToken? Verify)> ConfirmAsync(EmailCode challenge, string? tokenPurpose, CancellationToken cancellationToken)
    {
        var uid = challenge.Uid;
        var addressKey = challenge.AddressKey;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await LiveMembers.LockAsync(db, uid, cancellationToken))
        {
            return (new EmailConfirmation(false, uid, null), null);
        }

        var stillTheirs = await db.Members.AnyAsync(m => m.Uid == uid && m.Deleted == null && m.EmailKey == addressKey, cancellationToken);
        if (!stillTheirs)
        {
            return (new EmailConfirmation(false, uid, null), null);
        }

        if (await EmailAddresses.OwnedByAnotherAsync(db.Members, addressKey, uid, cancellationToken))
        {
            return (new EmailConfirmation(false, uid, null, Taken: true), null);
        }

        var now = clock.GetUtcNow();
        // Why the link refuses a suspended member, as the code does (below, by its step-up token): the address and the
        // spent code would otherwise be kept for a member an operator stopped, by a mail sent before. Read under the
        // member's row, so a suspension in flight is waited for. The page's usual refusal, with no word of the suspension
        // (the link tells nothing the code does not); the link stays unspent and confirms once the suspension lifts.
        if (tokenPurpose is null && await db.Members.AnyAsync(m => m.Uid == uid && m.SuspendedUntil > now, cancellationToken))
        {
            return (new EmailConfirmation(false, uid, null), null);
        }

        if (!await codes.ConsumeAsync(challenge, cancellationToken))
        {
            return (new EmailConfirmation(false, uid, null), null);
        }

        int marked;
        try
        {
            // Why: conditional on the address, so a change made in between is never marked verified by an older mail.
            marked = await db.Members.Where(m => m.Uid == uid && m.EmailKey == addressKey && m.Deleted == null)
                .ExecuteUpdateAsync(u => u.SetProperty(m => m.EmailVerified, true).SetProperty(m => m.Modified, now).SetProperty(m => m.Version, m => m.Version + 1), cancellationToken);
        }
        catch (Exception ex) when (DbErrors.IsUniqueViolation(ex, out var what) && DbErrors.Concerns(what, "ux_members_email_key", "email_key"))
        {
            // Why: another member verified the address between the check above and this update; the index decided.
            // Nothing commits (the code stays unspent); it can only ever answer the same.
            return (new EmailConfirmation(false, uid, null, Taken: true), null);
        }

        if (marked != 1)
        {
            return (new EmailConfirmation(false, uid, null), null);
        }

        // Why a step-up token: a code mailed before a suspension must not mint one after it; refused, nothing of this
        // transaction is kept (code unspent, address unmarked), so the same code finishes once the suspension lifts.
        var verify = tokenPurpose is null ? null : await tokens.IssueStepUpTokenAsync(uid, tokenPurpose, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        var redirect = challenge.Redirect is { } r && Uri.TryCreate(r, UriKind.Absolute, out var uri) ? uri : null;
        return (new EmailConfirmation(true, uid, redirect), verify);
    }
}
