using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Email;
using Pan.Data.PhaseSessions;
using Pan.Data.Tokens;
using Pan.Server.Credentials;
using Pan.Server.Email;

namespace Pan.Server.Recovery;

/// <summary>
/// A password change or reset ends every other proof that could reset the member's password again: unspent
/// auth_reset_tokens (either channel), mailed reset codes and links, and texted reset codes (the reset-by-phone flows
/// still open). Runs inside the credential change's transaction (<see cref="CredentialStore.EndOtherSessionsAsync"/>),
/// so the new password and the end of the old proofs commit together.
/// </summary>
/// <remarks>
/// Why: a reset proof is as good as the password. Before, a reset left the member's other proofs live until they
/// expired, so whoever held one (an older mail in a shared mailbox, a token fetched before the owner reset by phone)
/// could set the password again after the owner had, and an admin's ChangeMemberPassword could be overridden the same
/// way. Rows are marked used rather than deleted, so a proof this transaction spent stays as it is.
/// </remarks>
public sealed class ResetProofRevoker(PanDbContext db, TimeProvider clock) : IPasswordChangeRevoker
{
    /// <summary>
    /// A change of the member's email address ends the proofs that came through an address: unspent
    /// auth_reset_tokens of the email channel, the mailed reset codes and links, and the email sign-in flows
    /// (<c>EMAIL_OTC</c>) whose code went there (the reset-by-phone proofs stay). Runs in the change's transaction (the
    /// admin's ChangeMemberEmail, <see cref="EmailChanges.RecordAsync"/>).
    /// </summary>
    /// <remarks>
    /// Why: an address is changed when it is no longer the member's (a mailbox lost or given up, support moving it), and
    /// whoever reads the old mailbox could otherwise still set the password with what the mail gave: a token fetched
    /// before the change stayed good for its minutes, and a code or link came back to life once the old address was set
    /// again. The codes are marked used (not deleted), as on a password change.
    /// </remarks>
    public async Task RevokeEmailProofsAsync(long uid, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await db.Set<StoredVerifyToken>()
            .Where(t => t.Uid == uid && t.UsedAt == null && t.Purpose == ResetChannels.Email)
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.UsedAt, now), cancellationToken);
        await db.Set<EmailCode>()
            .Where(c => c.Uid == uid && c.Purpose == EmailPurposes.Reset && c.UsedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.UsedAt, now), cancellationToken);
        // Why: a sign-in code is bound to the address it was mailed to; the flow names only the member, so a code read
        // in the old mailbox would otherwise still sign the member in for its minutes.
        await db.Set<PhaseSession>()
            .Where(s => s.Uid == uid && s.Purpose == Login.EmailLoginFlow.CodePurpose && s.CompletedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.CompletedAt, now), cancellationToken);
    }

    public async Task RevokeAsync(long uid, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await db.Set<StoredVerifyToken>()
            .Where(t => t.Uid == uid && t.UsedAt == null && (t.Purpose == ResetChannels.Email || t.Purpose == ResetChannels.Phone))
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.UsedAt, now), cancellationToken);
        await db.Set<EmailCode>()
            .Where(c => c.Uid == uid && c.Purpose == EmailPurposes.Reset && c.UsedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.UsedAt, now), cancellationToken);
        await db.Set<PhaseSession>()
            .Where(s => s.Uid == uid && s.Purpose == PhoneRecovery.SessionPurpose && s.CompletedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.CompletedAt, now), cancellationToken);
    }
}
