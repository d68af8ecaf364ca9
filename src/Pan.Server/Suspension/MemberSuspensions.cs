using Google.Rpc;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Members;
using Pan.Server.AppEvents;
using Pan.Server.Credentials;
using Pan.Server.Deletion;

namespace Pan.Server.Suspension;

/// <summary>A member's standing as an operator sees it (<c>members show</c>).</summary>
public sealed record MemberStanding(
    long Uid, string? DisplayName, long AccountId, string? PhoneE164, string? Email, DateTimeOffset Created, DateTimeOffset? Deleted, DateTimeOffset? SuspendedUntil);

/// <summary>
/// Suspends and restores members (a Pan extension), for the admin API and the operator command line alike. A member is
/// suspended while <see cref="Member.SuspendedUntil"/> is in the future (<see cref="IsSuspended"/>): that is the only
/// rule, so a suspension with an end lifts itself and no job has to run. Each way in checks it in the database, inside
/// its own transaction, after the credential was proven (<see cref="MemberSuspendedException"/>).
/// </summary>
public sealed class MemberSuspensions(PanDbContext db, CredentialStore credentials, AppEventOutbox events, TimeProvider clock, ILogger<MemberSuspensions> logger)
{
    /// <summary>What an indefinite suspension stores: 9999-12-31T23:59:59Z, which "in the future" always holds for.</summary>
    public static readonly DateTimeOffset Indefinitely = new(9999, 12, 31, 23, 59, 59, TimeSpan.Zero);

    /// <summary>The furthest end a suspension may be given: 100 years (36,525 days) from now.</summary>
    public static readonly TimeSpan LongestEnd = TimeSpan.FromDays(36_525);

    /// <summary>Whether <paramref name="member"/> (a row read in the caller's transaction or snapshot) is suspended at <paramref name="now"/>.</summary>
    public static bool IsSuspended(Member member, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(member);
        return member.SuspendedUntil > now;
    }

    /// <summary>Refuses a sign-in of <paramref name="member"/> when it is suspended (<see cref="MemberSuspendedException"/>).</summary>
    public static void Refuse(Member member, DateTimeOffset now)
    {
        if (IsSuspended(member, now))
        {
            throw new MemberSuspendedException(member.SuspendedUntil!.Value);
        }
    }

    /// <summary>
    /// Reads member <paramref name="uid"/>'s suspension in the caller's transaction (after the row is held, so a
    /// suspension in flight is waited for) and refuses a suspended member (<see cref="MemberSuspendedException"/>).
    /// </summary>
    public static async Task RefuseAsync(PanDbContext db, long uid, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var until = await db.Members.Where(m => m.Uid == uid).Select(m => m.SuspendedUntil).FirstOrDefaultAsync(cancellationToken);
        if (until > now)
        {
            throw new MemberSuspendedException(until.Value);
        }
    }

    /// <summary>What is wrong with <paramref name="until"/> as a suspension's end (null: fine, or absent).</summary>
    public static string? CheckEnd(DateTimeOffset? until, DateTimeOffset now) => until switch
    {
        null => null,
        { } end when end <= now => "must be in the future",
        { } end when end - now > LongestEnd => "must be at most 100 years away",
        _ => null,
    };

    /// <summary>
    /// Suspends live member <paramref name="uid"/> until <paramref name="until"/> (null: <see cref="Indefinitely"/>) and,
    /// in the caller's transaction, ends what lets it in: every session and access token on every node, the apps' OAuth
    /// tokens and unredeemed codes (the remembered consents stay), its membership passes and, through the token
    /// generation, its Omniauth, apinode and hand-off tokens (<see cref="CredentialStore.EndOtherSessionsAsync"/>, as a
    /// password change by an admin ends them), its reset proofs and its unspent verify tokens, and queues
    /// <c>member.suspended</c> for the subscribed apps (the caller wakes <see cref="AppEventOutbox"/> after its commit).
    /// False (nothing written) when there is no live member. A suspended member's end is replaced (and a new event sent).
    /// </summary>
    public async Task<bool> SuspendAsync(long uid, DateTimeOffset? until, CancellationToken cancellationToken)
    {
        var end = until ?? Indefinitely;
        // Why first: this takes the member's row lock, ordering the suspension against a sign-in that opens a session
        // for the member (it holds the row while it checks) and against the member's deletion (LiveMembers).
        if (!await SetAsync(uid, end, cancellationToken))
        {
            return false;
        }

        // Ends the unspent verify tokens of every purpose too (Credentials.StepUpTokenRevoker): a step-up token for
        // SwitchMember or a deletion spoke for a session that has just ended.
        await credentials.EndOtherSessionsAsync(uid, keepSessionId: null, cancellationToken);
        var now = clock.GetUtcNow();
        // Why here: apps keep their own sessions and show the member's content, so they hear of every suspension that
        // commits, and of none that does not (its audit line refused).
        await events.MemberSuspendedAsync(uid, end < Indefinitely ? end : null, now, cancellationToken);
        logger.LogInformation("Suspended member {Uid} until {Until}", uid, end);
        return true;
    }

    /// <summary>
    /// Lifts live member <paramref name="uid"/>'s suspension (if any; ended sessions stay ended) and, when it was
    /// suspended, queues <c>member.restored</c> for the subscribed apps (the caller wakes <see cref="AppEventOutbox"/>
    /// after its commit).
    /// </summary>
    public async Task<RestoreResult> RestoreAsync(long uid, CancellationToken cancellationToken)
    {
        // Why the row is held before its end is read: a suspension committing meanwhile is then either seen here (and
        // its restore reported) or made to wait for this restore; read first, it could be cleared unreported.
        if (!await LiveMembers.LockAsync(db, uid, cancellationToken))
        {
            return RestoreResult.NoSuchMember;
        }

        var now = clock.GetUtcNow();
        var until = await db.Members.Where(m => m.Uid == uid).Select(m => m.SuspendedUntil).SingleAsync(cancellationToken);
        // Why only a suspension that applies is cleared: restoring a member that is not suspended (never, restored
        // already, or lifted by itself at its end) changes nothing, neither its row nor what an app holds (no event);
        // an end already past stays as it was, and reads as not suspended like no end.
        if (!(until > now))
        {
            logger.LogInformation("Member {Uid} was not suspended; nothing restored", uid);
            return RestoreResult.NotSuspended;
        }

        await SetAsync(uid, null, cancellationToken);
        await events.MemberRestoredAsync(uid, now, cancellationToken);
        logger.LogInformation("Restored member {Uid}", uid);
        return RestoreResult.Restored;
    }

    /// <summary>The member's standing (deleted ones too), or null when no member has <paramref name="uid"/>.</summary>
    public Task<MemberStanding?> FindAsync(long uid, CancellationToken cancellationToken) =>
        db.Members.AsNoTracking().Where(m => m.Uid == uid)
            .Select(m => new MemberStanding(m.Uid, m.DisplayName, m.AccountId, m.Account!.PhoneE164, m.Email, m.Created, m.Deleted, m.SuspendedUntil))
            .SingleOrDefaultAsync(cancellationToken);

    /// <summary>
    /// Sets the live member's <c>suspended_until</c> in one UPDATE (which takes the row's lock, as
    /// <see cref="Deletion.LiveMembers.LockAsync"/> does); false when no live member has <paramref name="uid"/>. Why the
    /// version stays: suspension is not profile data, so a concurrent profile edit does not conflict with it.
    /// </summary>
    private async Task<bool> SetAsync(long uid, DateTimeOffset? until, CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("MemberSuspensions must run in the caller's transaction (with its audit line).");
        }

        return await db.Members.Where(m => m.Uid == uid && m.Deleted == null)
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.SuspendedUntil, until), cancellationToken) == 1;
    }
}

/// <summary>
/// A sign-in (or an access token) for a suspended member was refused, after its credential was proven. gRPC callers get
/// PERMISSION_DENIED with ErrorInfo reason <see cref="Reason"/> (<see cref="Errors.ErrorInterceptor"/>); the HTTP ways
/// in (pages, OAuth, Omniauth, apinode) answer in their own vocabularies.
/// </summary>
public sealed class MemberSuspendedException(DateTimeOffset until) : Exception("The member is suspended.")
{
    /// <summary>The ErrorInfo reason of the refusal (domain pan), a Pan code outside the seed's vocabularies.</summary>
    public const string Reason = "MEMBER_SUSPENDED";

    /// <summary>When the suspension lifts (<see cref="MemberSuspensions.Indefinitely"/>: not by itself).</summary>
    public DateTimeOffset Until { get; } = until;

    /// <summary>Whether the suspension has an end (it lifts by itself).</summary>
    public bool HasEnd => Until < MemberSuspensions.Indefinitely;

    /// <summary>The gRPC status: PERMISSION_DENIED, reason MEMBER_SUSPENDED, metadata suspended_until (RFC 3339) when it has an end.</summary>
    public RpcException ToRpcException()
    {
        var info = new ErrorInfo { Domain = Errors.PanError.Domain, Reason = Reason };
        if (HasEnd)
        {
            info.Metadata["suspended_until"] = Rfc3339(Until);
        }

        var status = new Google.Rpc.Status
        {
            Code = (int)StatusCode.PermissionDenied,
            Message = "This member is suspended.",
            Details = { Google.Protobuf.WellKnownTypes.Any.Pack(info) },
        };
        return status.ToRpcException();
    }

    /// <summary>An instant as RFC 3339 in UTC, to the second.</summary>
    public static string Rfc3339(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>What <see cref="MemberSuspensions.RestoreAsync"/> found.</summary>
public enum RestoreResult
{
    /// <summary>No live member has the uid.</summary>
    NoSuchMember,

    /// <summary>The member was suspended and no longer is.</summary>
    Restored,

    /// <summary>The member was not suspended (never, restored already, or its suspension had ended): nothing changed.</summary>
    NotSuspended,
}
