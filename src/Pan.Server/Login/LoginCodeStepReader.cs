using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Pan.Data;
using Pan.Data.Credentials;
using Pan.Data.PhaseSessions;
using Pan.Data.PhoneBlocks;
using Pan.Server.Accounts;
using Pan.Server.BruteForce;
using Pan.Server.PhaseSessions;

namespace Pan.Server.Login;

/// <summary>What phone login's input-code step reads before judging the code.</summary>
/// <param name="Session">The live login session behind the token.</param>
/// <param name="Failures">The failure state of the session's member (<c>default</c> when the session names none).</param>
/// <param name="Phone">The session phone's account and the member it signs in as now.</param>
/// <param name="PhoneBlocked">Whether an operator's block of the session's phone applies now (<see cref="PhoneBlocks.PhoneBlocks"/>).</param>
public readonly record struct LoginCodeStep(PhaseSession Session, LockState Failures, PhoneDefault Phone, bool PhoneBlocked);

/// <summary>
/// Reads, in one statement, what <see cref="PhaseSessionStore.FindAsync"/>, <see cref="FailureCounter.StateAsync"/>
/// and <see cref="AccountDirectory.DefaultMemberByPhoneAsync"/> would read one after the other for phone login's
/// input-code step: the session by its token hash, left-joined with its member's failure counter row and with its
/// phone's live account and that account's live members, and whether the phone is blocked (a primary-key probe of
/// <c>blocked_phones</c> in the same statement, so a block made on any node refuses the step at once).
/// </summary>
/// <remarks>
/// Why one statement: on PostgreSQL each read is a round trip on the request's path, and the socket writes of those
/// round trips were a quarter of the server's CPU in the phone-login profile. The three rows are keyed by the session
/// row (uid, phone), so they can be read together; being reads outside any transaction, reading them at once changes
/// nothing the step decides (the code check, wrong-try counting and completion stay conditional UPDATEs). A session
/// row comes back once per live member of its account (a handful at most).
/// </remarks>
public sealed class LoginCodeStepReader(PanDbContext db, PhaseSessionStore sessions, TimeProvider clock)
{
    // Why compiled: read on every input-code step; one per model (one per provider), as in TokenService.
    private static readonly ConditionalWeakTable<IModel, Func<PanDbContext, byte[], DateTimeOffset, IAsyncEnumerable<Row>>> Queries = new();

    /// <summary>The step's rows, or null when the token names no live login session.</summary>
    public async Task<LoginCodeStep?> ReadAsync(string? token, string purpose, CancellationToken cancellationToken)
    {
        if (PhaseSessionStore.TokenHashOf(token) is not { } hash)
        {
            return null;
        }

        var query = Queries.GetValue(db.Model, _ => EF.CompileAsyncQuery((PanDbContext context, byte[] tokenHash, DateTimeOffset now) =>
            from s in context.Set<PhaseSession>().AsNoTracking()
            where s.TokenHash == tokenHash
            from f in context.Set<LoginFailure>().Where(f => f.Uid == s.Uid).DefaultIfEmpty()
            from a in context.Accounts.Where(a => a.PhoneE164 == s.PhoneE164 && a.Deleted == null).DefaultIfEmpty()
            from m in context.Members.Where(m => m.AccountId == a!.Id && m.Deleted == null).DefaultIfEmpty()
            orderby a!.Id, m!.Uid
            select new Row(
                s,
                f != null,
                f!.LockedUntil,
                context.Set<BlockedPhone>().Any(b => b.PhoneE164 == s.PhoneE164 && (b.Expires == null || b.Expires > now)),
                new PhoneMemberRow((long?)a!.Id, a.DefaultMemberUid, (long?)m!.Uid, (Guid?)m.ObjectId, (bool?)m.IsOwner))));

        PhaseSession? session = null;
        var failures = default(LockState);
        var blocked = false;
        var now = clock.GetUtcNow();
        var phone = new List<PhoneMemberRow>(4);
        await foreach (var row in query(db, hash, now).WithCancellation(cancellationToken))
        {
            if (session is null)
            {
                session = row.Session;
                failures = session.Uid is null ? default : FailureCounter.StateOf(row.HasFailureRow, row.LockedUntil, now);
                blocked = row.PhoneBlocked;
            }

            phone.Add(row.Phone);
        }

        return sessions.Live(session, purpose) is { } live ? new LoginCodeStep(live, failures, AccountDirectory.Pick(phone), blocked) : null;
    }

    /// <summary>One row of the joined read.</summary>
    private sealed record Row(PhaseSession Session, bool HasFailureRow, DateTimeOffset? LockedUntil, bool PhoneBlocked, PhoneMemberRow Phone);
}
