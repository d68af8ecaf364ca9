using System.Text;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Members;
using Pan.Server.BruteForce;
using Pan.Server.Credentials;
using Pan.Server.Data;
using Pan.Server.Deletion;
using Pan.Server.Errors;
using Pan.Server.Members;
using EmailError = Pan.General.Admin.ChangeMemberEmailResponse.Types.Error.Types.Value;
using PasswordError = Pan.General.Admin.ChangeMemberPasswordResponse.Types.Error.Types.Value;

namespace Pan.Server.Admin;

/// <summary>
/// What an admin may do to a member: set a password, change the email, remove the avatar. Runs inside the transaction
/// of <see cref="AdminActions"/>, except a new password's check and hash, which come before it; every failure is the
/// RPC's seed error.
/// </summary>
public sealed class MemberMaintenance(
    PanDbContext db, PasswordPolicy policy, CredentialStore credentials, FailureCounter failures,
    Recovery.ResetProofRevoker resetProofs, Avatars.AvatarService avatars, TimeProvider clock)
{
    /// <summary>Passwords longer than this (UTF-16 units) are refused before the policy or the hash sees them.</summary>
    public const int MaxPasswordLength = 4096;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Checks the new password and hashes it (CredentialStore.PrepareAsync), outside any transaction: the Argon2id hash
    /// takes tens of milliseconds, and on SQLite a transaction holds the database's one write lock all that time.
    /// UserNotFound: no live member; ParsePasswordFailed: not valid Unicode text or holds control characters;
    /// PasswordFormatIncorrect: empty, oversized, or refused by the PasswordPolicy (the reason is in the message).
    /// </summary>
    public async Task<PreparedCredentials> PreparePasswordAsync(long uid, string password, CancellationToken cancellationToken)
    {
        var member = await FindAsync(uid, PasswordError.UserNotFound, cancellationToken);
        if (!Readable(password))
        {
            throw PanError.Of(PasswordError.ParsePasswordFailed, StatusCode.InvalidArgument, "The password could not be read.",
                new FieldViolation("password", "must be valid text without control characters"));
        }

        var problem = password.Length == 0 ? "is required"
            : password.Length > MaxPasswordLength ? $"must be at most {MaxPasswordLength} characters"
            : policy.Check(password, [member.Account?.PhoneE164, member.Email, member.DisplayName, member.Username])?.Reason;
        if (problem is not null)
        {
            throw PanError.Of(PasswordError.PasswordFormatIncorrect, StatusCode.InvalidArgument, problem, new FieldViolation("password", problem));
        }

        return await credentials.PrepareAsync(password, null, null, cancellationToken);
    }

    /// <summary>
    /// Writes the password <see cref="PreparePasswordAsync"/> hashed, in the transaction of <see cref="AdminActions"/>:
    /// takes the member's row first (<see cref="LiveMembers.LockAsync"/>; a member deleted since is UserNotFound), then
    /// sets the password, ends all the member's sessions and what the apps were handed for it
    /// (CredentialStore.EndOtherSessionsAsync with no session kept) and clears the failure counter (a lock is released,
    /// as by a reset). A concurrent change of the credentials: UpdatePasswordFailed (ABORTED).
    /// </summary>
    public async Task ChangePasswordAsync(long uid, PreparedCredentials prepared, CancellationToken cancellationToken)
    {
        if (!await LiveMembers.LockAsync(db, uid, cancellationToken))
        {
            throw PanError.Of(PasswordError.UserNotFound, StatusCode.NotFound, "No such member.");
        }

        try
        {
            await credentials.SaveAsync(uid, prepared, cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw PanError.Of(PasswordError.UpdatePasswordFailed, StatusCode.Aborted, "The member changed meanwhile; try again.");
        }

        // Why no session kept: an admin reset must end every session of the member.
        await credentials.EndOtherSessionsAsync(uid, keepSessionId: null, cancellationToken);
        // Why: support sets a password for a member locked out by wrong guesses; a kept lock (or the kept streak, which
        // one typo turns into a new lock) would refuse the new password like a wrong one (SECURITY 10).
        await failures.ResetAsync(uid, cancellationToken);
    }

    /// <summary>
    /// Sets the member's email and marks it verified (the admin vouches for it; no verification mail is sent). Only
    /// another member's verified address is in use: other members' unverified claims on it stay, unverifiable (see
    /// EmailVerification). The unique index on verified <c>email_key</c>s decides races: EmailInUseInPan. A concurrent
    /// edit of the member: UpdateEmailFailed. A new address ends the reset proofs that came through the old one, in the
    /// same transaction (<see cref="Recovery.ResetProofRevoker.RevokeEmailProofsAsync"/>).
    /// </summary>
    public async Task ChangeEmailAsync(long uid, string email, CancellationToken cancellationToken)
    {
        var member = await FindAsync(uid, EmailError.UserNotFound, cancellationToken);
        var address = EmailAddresses.Normalize(email)
            ?? throw PanError.InvalidArgument("email", string.IsNullOrWhiteSpace(email) ? "is required" : "is not a valid email address");
        var key = EmailAddresses.Key(address);
        if (await Email.EmailAddresses.OwnedByAnotherAsync(db.Members, key, uid, cancellationToken))
        {
            throw EmailInUse();
        }

        var moved = member.EmailKey != key;
        member.Email = address;
        member.EmailKey = key;
        member.EmailVerified = true;
        member.Modified = clock.GetUtcNow();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            if (moved)
            {
                // Why: support moves an address that is no longer the member's; a reset mailed there before (a fetched
                // auth_reset_token, a code, a link) must not set the password afterwards. In AdminActions' transaction.
                await resetProofs.RevokeEmailProofsAsync(uid, cancellationToken);
            }
        }
        catch (DbUpdateConcurrencyException)
        {
            throw PanError.Of(EmailError.UpdateEmailFailed, StatusCode.Aborted, "The member changed meanwhile; try again.");
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out var what) && DbErrors.Concerns(what, "ux_members_email_key", "email_key"))
        {
            throw EmailInUse();
        }
        catch (DbUpdateException ex) when (!ErrorInterceptor.IsOutage(ex))
        {
            throw PanError.Of(EmailError.InternalError, StatusCode.Internal, "The email could not be saved.");
        }
    }

    /// <summary>
    /// Clears the member's avatar (the default avatar shows again) and returns the key whose stored picture the caller
    /// deletes once the transaction has committed (<see cref="Avatars.AvatarService.DeleteFilesAsync"/>); null when
    /// there was none. A concurrent edit: RemoveAvatarFailed.
    /// </summary>
    /// <remarks>
    /// Why not delete here: the picture store writes on a connection of its own. Inside this transaction that waited for
    /// the transaction's own write lock on SQLite (UNAVAILABLE after the busy timeout, nothing removed), and on
    /// PostgreSQL it committed the deletion before the removal did, so a removal that failed later left the member
    /// pointing at a deleted picture.
    /// </remarks>
    public async Task<string?> RemoveAvatarAsync(long uid, CancellationToken cancellationToken)
    {
        var member = await FindAsync(uid, Pan.General.Admin.RemoveMemberAvatarResponse.Types.Error.Types.Value.UserNotFound, cancellationToken);
        if (member.AvatarKey is null)
        {
            return null;
        }

        var oldKey = member.AvatarKey;
        member.AvatarKey = null;
        member.Modified = clock.GetUtcNow();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            // Why in the transaction: the files are deleted after the commit; a node dying first leaves them to the janitor.
            await avatars.ReleaseAsync(oldKey, cancellationToken);
            return oldKey;
        }
        catch (DbUpdateConcurrencyException)
        {
            throw PanError.Of(Pan.General.Admin.RemoveMemberAvatarResponse.Types.Error.Types.Value.RemoveAvatarFailed, StatusCode.Aborted,
                "The member changed meanwhile; try again.");
        }
        catch (DbUpdateException ex) when (!ErrorInterceptor.IsOutage(ex))
        {
            throw PanError.Of(Pan.General.Admin.RemoveMemberAvatarResponse.Types.Error.Types.Value.InternalError, StatusCode.Internal,
                "The avatar could not be removed.");
        }
    }

    /// <summary>The live member <paramref name="uid"/> (tracked, with its account), or NOT_FOUND UserNotFound; uid ≤ 0 is INVALID_ARGUMENT.</summary>
    private async Task<Member> FindAsync<TEnum>(long uid, TEnum notFound, CancellationToken cancellationToken)
        where TEnum : struct, System.Enum
    {
        if (uid <= 0)
        {
            throw PanError.InvalidArgument("uid", "must be a positive member uid");
        }

        return await db.Members.Include(m => m.Account).SingleOrDefaultAsync(m => m.Uid == uid && m.Deleted == null, cancellationToken)
            ?? throw PanError.Of(notFound, StatusCode.NotFound, "No such member.");
    }

    private static RpcException EmailInUse() =>
        PanError.Of(EmailError.EmailInUseInPan, StatusCode.AlreadyExists, "Another member uses this email.", new FieldViolation("email", "is in use by another member"));

    private static bool Readable(string password)
    {
        try
        {
            StrictUtf8.GetByteCount(password);
        }
        catch (EncoderFallbackException)
        {
            return false;
        }

        return !password.Any(char.IsControl);
    }
}
