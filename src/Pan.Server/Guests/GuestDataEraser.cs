using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Guests;
using Pan.Server.Deletion;

namespace Pan.Server.Guests;

/// <summary>Erases a deleted member's apinode data: its tokens, activations and account row (name, mobile, profile, aux).</summary>
public sealed class GuestDataEraser(PanDbContext db) : IMemberDataEraser
{
    public async Task EraseAsync(IReadOnlyCollection<long> uids, CancellationToken cancellationToken)
    {
        await db.Set<GuestToken>().Where(t => uids.Contains(t.Uid)).ExecuteDeleteAsync(cancellationToken);
        await db.Set<GuestActivation>().Where(a => uids.Contains(a.Uid)).ExecuteDeleteAsync(cancellationToken);
        await db.Set<GuestAccount>().Where(g => uids.Contains(g.Uid)).ExecuteDeleteAsync(cancellationToken);
    }
}
