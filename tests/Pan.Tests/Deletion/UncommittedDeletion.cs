using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.PhaseSessions;
using Pan.Server.Deletion;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Deletion;

/// <summary>
/// A member's deletion stopped just before its commit, so that a test can run another operation exactly then: in one
/// open transaction the member row is erased and marked deleted, every <see cref="IMemberDataEraser"/> has run and the
/// member's phase sessions are gone — what DeleteMember's transaction has done by then — and that transaction's locks
/// are held (SQLite's write lock; PostgreSQL's row locks) until <see cref="CommitAsync"/>. Disposing without committing
/// rolls it back.
/// </summary>
public sealed class UncommittedDeletion : UncommittedChange
{
    private UncommittedDeletion(PanServer server, ITestDatabase database)
        : base(server, database)
    {
    }

    /// <param name="lastMember">
    /// The member is its account's last live one: the account goes too, as DeleteMember then does (deleted, its phone
    /// freed, no default member).
    /// </param>
    public static async Task<UncommittedDeletion> StartAsync(PanServer server, ITestDatabase database, long uid, bool lastMember = false)
    {
        var deletion = new UncommittedDeletion(server, database);
        var db = await deletion.BeginAsync();
        var now = server.Clock.GetUtcNow();
        await db.Members.Where(m => m.Uid == uid).ExecuteUpdateAsync(u => u
            .SetProperty(m => m.DisplayName, (string?)null)
            .SetProperty(m => m.DisplayNameKey, (string?)null)
            .SetProperty(m => m.Username, (string?)null)
            .SetProperty(m => m.Email, (string?)null)
            .SetProperty(m => m.EmailKey, (string?)null)
            .SetProperty(m => m.EmailVerified, false)
            .SetProperty(m => m.Deleted, now)
            .SetProperty(m => m.Modified, now)
            .SetProperty(m => m.Version, m => m.Version + 1));
        if (lastMember)
        {
            var accountId = await db.Members.Where(m => m.Uid == uid).Select(m => m.AccountId).SingleAsync();
            await db.Accounts.Where(a => a.Id == accountId).ExecuteUpdateAsync(u => u
                .SetProperty(a => a.PhoneE164, (string?)null)
                .SetProperty(a => a.DefaultMemberUid, (long?)null)
                .SetProperty(a => a.Deleted, now)
                .SetProperty(a => a.Modified, now)
                .SetProperty(a => a.Version, a => a.Version + 1));
        }

        foreach (var eraser in deletion.Scope.ServiceProvider.GetServices<IMemberDataEraser>())
        {
            await eraser.EraseAsync([uid], CancellationToken.None);
        }

        await db.Set<PhaseSession>().Where(s => s.Uid == uid).ExecuteDeleteAsync();
        return deletion;
    }
}
