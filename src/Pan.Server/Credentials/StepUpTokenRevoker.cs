using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Tokens;

namespace Pan.Server.Credentials;

/// <summary>
/// A password change or reset ends the member's unspent verify tokens, whatever their operation: step-up proofs
/// (<c>switch-member</c>, <c>delete</c>, <c>update-credential</c>, <c>export-data</c>, <c>add-passkey</c> and their
/// password forms) as well as reset proofs. Runs inside the credential change's transaction
/// (<see cref="CredentialStore.EndOtherSessionsAsync"/>), after the change has spent its own proof.
/// </summary>
/// <remarks>
/// Why: VerifyMemberByPassword hands out a proof to whoever gives the password, with no session, and a proof of a
/// member's own password lets any session of its phone switch to it (SwitchMember). A member changes its password to
/// lock out whoever knew the old one; its sessions end, and a proof the old password gave must end with them, else it
/// still opened the member for its minutes. The other operations' proofs are ended with them: each spoke for a
/// credential or a session the change has just ended, and the member asks for a new one in seconds. Rows are marked
/// used rather than deleted, so a proof this transaction spent stays as it is.
/// </remarks>
public sealed class StepUpTokenRevoker(PanDbContext db, TimeProvider clock) : IPasswordChangeRevoker
{
    public async Task RevokeAsync(long uid, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await db.Set<StoredVerifyToken>().Where(t => t.Uid == uid && t.UsedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.UsedAt, now), cancellationToken);
    }
}
