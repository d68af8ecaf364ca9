using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Pan.Data;
using Pan.Data.Credentials;
using Pan.Server.BruteForce;
using Pan.Server.Data;
using Pan.Server.Deletion;
using Pan.Server.Tokens;

namespace Pan.Server.Credentials;

/// <summary>What a member has set (the seed's QueryMemberCredentialStatusResponse).</summary>
public sealed record CredentialStatus(bool HasPassword, bool HasEmail, bool HasSecurityQuestion, bool EmailVerified);

/// <summary>How a password or security-answer attempt went. Locked answers exactly like Wrong to the caller.</summary>
public enum SecretCheck
{
    Ok,
    Wrong,
    Locked,
    NotSet,
}

/// <summary>What a password check reads of a member before hashing (<see cref="CredentialStore.FindSecretsAsync"/>).</summary>
/// <param name="HasFailureRow">Whether the member has a failure streak on record.</param>
/// <param name="LockedUntil">The counter's wait or lock, when it has one.</param>
public sealed record StoredSecrets(long Uid, string? PasswordHash, string? AnswerHash, bool HasFailureRow, DateTimeOffset? LockedUntil);

/// <summary>New secrets already hashed (the slow part), ready to be written inside a short transaction.</summary>
/// <param name="PasswordHash">Argon2id hash of the new password, or null to keep the password.</param>
/// <param name="Question">The new security question, or null to keep it.</param>
/// <param name="AnswerHash">Argon2id hash of the normalised answer (set together with <paramref name="Question"/>).</param>
public sealed record PreparedCredentials(string? PasswordHash, string? Question, string? AnswerHash)
{
    public bool IsEmpty => PasswordHash is null && Question is null;
}

/// <summary>
/// A member's password and security question, stored hashed; every check goes through the account failure counter
/// (progressive delay, then lock) and re-hashes legacy or outdated hashes on success.
/// </summary>
/// <remarks>
/// Checks answer <see cref="SecretCheck.Locked"/> without looking at the secret while the counter makes the member wait,
/// but still spend one Argon2id verification, so locked, unknown and wrong take about as long. Hashing happens before
/// any write: callers that need several writes in one transaction call <see cref="PrepareAsync"/> first and
/// <see cref="SaveAsync"/> inside their transaction.
/// </remarks>
public sealed class CredentialStore(
    PanDbContext db,
    PasswordHasher hasher,
    FailureCounter failures,
    TokenService tokens,
    IEnumerable<IPasswordChangeRevoker> revokers,
    TimeProvider clock,
    ILogger<CredentialStore> logger)
{
    private static readonly ConditionalWeakTable<IModel, Func<PanDbContext, long?, string?, string?, CancellationToken, Task<StoredSecrets?>>> SecretsQueries = new();

    public async Task<CredentialStatus> StatusAsync(long uid, CancellationToken cancellationToken)
    {
        var row = await (
                from m in db.Members
                where m.Uid == uid
                join c in db.Set<MemberCredential>() on m.Uid equals c.Uid into cs
                from c in cs.DefaultIfEmpty()
                select new
                {
                    m.Email,
                    m.EmailVerified,
                    HasPassword = c != null && c.PasswordHash != null,
                    HasQuestion = c != null && c.SecurityAnswerHash != null,
                })
            .AsNoTracking()
            .FirstOrDefaultAsync(cancellationToken);
        return row is null
            ? new CredentialStatus(false, false, false, false)
            : new CredentialStatus(row.HasPassword, !string.IsNullOrEmpty(row.Email), row.HasQuestion, !string.IsNullOrEmpty(row.Email) && row.EmailVerified);
    }

    /// <summary>
    /// Sets a new password (already checked against the policy) and ends the member's other sessions. It hashes first,
    /// so call it outside any transaction: inside a caller's transaction the hash would hold that transaction (on
    /// SQLite the write lock) open; such callers use <see cref="PrepareAsync"/> and <see cref="SaveAsync"/>.
    /// </summary>
    /// <param name="keepSessionId">The caller's auth session, which stays open; null ends every session of the member.</param>
    public async Task SetPasswordAsync(long uid, string password, long? keepSessionId, CancellationToken cancellationToken)
    {
        var prepared = await PrepareAsync(password, null, null, cancellationToken);
        await using var transaction = await JoinedTransaction.BeginAsync(db, cancellationToken);
        await LockLiveMemberAsync(uid, cancellationToken);
        await SaveAsync(uid, prepared, cancellationToken);
        await EndOtherSessionsAsync(uid, keepSessionId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<SecretCheck> CheckPasswordAsync(long uid, string password, CancellationToken cancellationToken)
    {
        var stored = await SecretsOfAsync(uid, cancellationToken);
        var check = await CheckAsync(stored, password, stored.PasswordHash, cancellationToken);
        if (check.Result == SecretCheck.Ok && check.NeedsRehash)
        {
            await RehashPasswordAsync(uid, password, stored.PasswordHash!, cancellationToken);
        }

        return check.Result;
    }

    /// <summary>
    /// Sets the member's first password: false (and nothing written) when the member already has one, also when two
    /// requests race, and when the member is deleted (also by a deletion that commits while this waits for it). A first
    /// password ends no session (nothing was protected by a password before).
    /// </summary>
    public async Task<bool> SetFirstPasswordAsync(long uid, string password, CancellationToken cancellationToken)
    {
        var hash = await hasher.HashAsync(password, cancellationToken);
        await using var transaction = await JoinedTransaction.BeginAsync(db, cancellationToken);
        if (!await LiveMembers.LockAsync(db, uid, cancellationToken) || !await WriteFirstPasswordAsync(uid, hash, cancellationToken))
        {
            return false;
        }

        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Set the first password of member {Uid}", uid);
        return true;
    }

    /// <summary>
    /// Writes <paramref name="hash"/> (from <see cref="PrepareAsync"/>) as the member's first password in the caller's
    /// transaction, which has taken the member's row (<see cref="LiveMembers.LockAsync"/>); false, with nothing written,
    /// when the member already has a password (also one a concurrent request wrote first). The caller then rolls back.
    /// </summary>
    public async Task<bool> WriteFirstPasswordAsync(long uid, string hash, CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("WriteFirstPasswordAsync must run in the caller's transaction.");
        }

        await EnsureRowAsync(uid, cancellationToken);
        var now = clock.GetUtcNow();
        var changed = await db.Set<MemberCredential>()
            .Where(c => c.Uid == uid && c.PasswordHash == null)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.PasswordHash, hash).SetProperty(c => c.PasswordChanged, now), cancellationToken);
        return changed == 1;
    }

    /// <summary>
    /// The live member with this display-name key and/or verified email key (both must fit when both are given), with
    /// its password and answer hashes and its failure-counter state, in one statement; null when nobody fits. An
    /// unverified address names nobody: several members may hold it.
    /// </summary>
    /// <remarks>
    /// Why one compiled statement: VerifyMemberByPassword made three reads (the member, its credentials, its counter)
    /// before hashing, each a round trip and a LINQ translation; the request's work beside Argon2id was about a seventh
    /// of the call's CPU, half of it EF Core (BENCHMARKS.md change 34). A null key drops its condition: EF Core builds
    /// the SQL for the keys given.
    /// </remarks>
    public Task<StoredSecrets?> FindSecretsAsync(string? displayNameKey, string? emailKey, CancellationToken cancellationToken) =>
        SecretsAsync(null, displayNameKey, emailKey, cancellationToken);

    /// <summary>
    /// Re-authentication by password plus, when the member has a security question, its answer: one attempt for the
    /// failure counter (any wrong part counts one failure; only both right reset it, so knowing the password does not
    /// buy unlimited answer guesses). <c>AnswerRequired</c> is true when the password was right but the member has a
    /// question and <paramref name="answer"/> is empty; the counter is then left as it was.
    /// </summary>
    /// <param name="stored">The member's secrets and failure state as <see cref="FindSecretsAsync"/> read them.</param>
    public async Task<(SecretCheck Result, bool AnswerRequired)> CheckPasswordAndAnswerAsync(StoredSecrets stored, string password, string? answer, CancellationToken cancellationToken)
    {
        var uid = stored.Uid;
        if (await RefuseUncheckableAsync(stored, password, stored.PasswordHash, cancellationToken) is { } refused)
        {
            return (refused, false);
        }

        var passwordHash = stored.PasswordHash!;
        var passwordCheck = await hasher.VerifyAsync(password, passwordHash, cancellationToken);
        if (!passwordCheck.Matches)
        {
            await failures.RecordFailureAsync(uid, cancellationToken);
            return (SecretCheck.Wrong, false);
        }

        var answerNeedsRehash = false;
        if (stored.AnswerHash is { } answerHash)
        {
            if (string.IsNullOrWhiteSpace(answer))
            {
                return (SecretCheck.Wrong, true);
            }

            // Why the length first: an answer no one could have set is wrong without normalising or hashing it (SECURITY 17).
            var answerCheck = answer.Length > SecurityQuestions.MaxAnswerInputLength
                ? default
                : await hasher.VerifyAsync(SecurityQuestions.NormalizeAnswer(answer), answerHash, cancellationToken);
            if (!answerCheck.Matches)
            {
                await failures.RecordFailureAsync(uid, cancellationToken);
                return (SecretCheck.Wrong, false);
            }

            answerNeedsRehash = answerCheck.NeedsRehash;
        }

        if (!await failures.SucceedUnlessLockedAsync(uid, cancellationToken))
        {
            return (SecretCheck.Locked, false);
        }

        if (passwordCheck.NeedsRehash)
        {
            await RehashPasswordAsync(uid, password, passwordHash, cancellationToken);
        }

        // Why: answers are hashed like passwords, and renewed like them after a successful check (SECURITY 2).
        if (answerNeedsRehash)
        {
            await RehashAnswerAsync(uid, answer!, stored.AnswerHash!, cancellationToken);
        }

        return (SecretCheck.Ok, false);
    }

    /// <summary>
    /// <see cref="CheckPasswordAndAnswerAsync(StoredSecrets, string, string?, CancellationToken)"/> for the member
    /// <paramref name="uid"/> (a deleted or unknown member has no password: NotSet after a dummy verification).
    /// </summary>
    public async Task<(SecretCheck Result, bool AnswerRequired)> CheckPasswordAndAnswerAsync(long uid, string password, string? answer, CancellationToken cancellationToken) =>
        await CheckPasswordAndAnswerAsync(await SecretsOfAsync(uid, cancellationToken), password, answer, cancellationToken);

    /// <summary>The member's security question text, or null when none is set.</summary>
    public Task<string?> SecurityQuestionAsync(long uid, CancellationToken cancellationToken) =>
        db.Set<MemberCredential>().AsNoTracking()
            .Where(c => c.Uid == uid && c.SecurityAnswerHash != null)
            .Select(c => c.SecurityQuestion)
            .FirstOrDefaultAsync(cancellationToken);

    public async Task SetSecurityQuestionAsync(long uid, string question, string answer, CancellationToken cancellationToken)
    {
        var prepared = await PrepareAsync(null, question, answer, cancellationToken);
        await using var transaction = await JoinedTransaction.BeginAsync(db, cancellationToken);
        await LockLiveMemberAsync(uid, cancellationToken);
        await SaveAsync(uid, prepared, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<SecretCheck> CheckSecurityAnswerAsync(long uid, string answer, CancellationToken cancellationToken)
    {
        var secrets = await SecretsOfAsync(uid, cancellationToken);
        var stored = secrets.AnswerHash;
        var check = await CheckAsync(secrets, SecurityQuestions.NormalizeAnswer(answer), stored, cancellationToken);
        if (check.Result == SecretCheck.Ok && check.NeedsRehash)
        {
            await RehashAnswerAsync(uid, answer, stored!, cancellationToken);
        }

        return check.Result;
    }

    /// <summary>Replaces the checked answer hash <paramref name="stored"/> with one of the current parameters (not a changed one).</summary>
    private async Task RehashAnswerAsync(long uid, string answer, string stored, CancellationToken cancellationToken)
    {
        var fresh = await hasher.HashAsync(SecurityQuestions.NormalizeAnswer(answer), cancellationToken);
        await db.Set<MemberCredential>().Where(c => c.Uid == uid && c.SecurityAnswerHash == stored)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.SecurityAnswerHash, fresh), cancellationToken);
    }

    /// <summary>Hashes the new secrets (the slow, CPU-bound part) without touching the database.</summary>
    /// <param name="password">New password, already checked against <see cref="PasswordPolicy"/>; null keeps it.</param>
    /// <param name="question">New security question (with <paramref name="answer"/>); null keeps it.</param>
    public async Task<PreparedCredentials> PrepareAsync(string? password, string? question, string? answer, CancellationToken cancellationToken)
    {
        var passwordHash = password is null ? null : await hasher.HashAsync(password, cancellationToken);
        if (question is null)
        {
            return new PreparedCredentials(passwordHash, null, null);
        }

        ArgumentNullException.ThrowIfNull(answer);
        var normalized = SecurityQuestions.NormalizeAnswer(answer);
        ArgumentException.ThrowIfNullOrEmpty(normalized, nameof(answer));
        var answerHash = await hasher.HashAsync(normalized, cancellationToken);
        return new PreparedCredentials(passwordHash, question.Trim(), answerHash);
    }

    /// <summary>
    /// Writes prepared secrets for <paramref name="uid"/> (joins the caller's transaction when there is one). Ends no session.
    /// A caller whose member may be deleted meanwhile takes <see cref="LiveMembers.LockAsync"/> first in its transaction
    /// (see <see cref="EnsureRowAsync"/>); a member created in the same transaction needs no lock.
    /// </summary>
    public async Task SaveAsync(long uid, PreparedCredentials prepared, CancellationToken cancellationToken)
    {
        if (prepared.IsEmpty)
        {
            return;
        }

        var now = clock.GetUtcNow();
        await EnsureRowAsync(uid, cancellationToken);
        var row = db.Set<MemberCredential>().Where(c => c.Uid == uid);
        if (prepared.PasswordHash is { } passwordHash)
        {
            Written(await row.ExecuteUpdateAsync(u => u
                .SetProperty(c => c.PasswordHash, passwordHash)
                .SetProperty(c => c.PasswordChanged, now), cancellationToken), uid);
            logger.LogInformation("Set the password of member {Uid}", uid);
        }

        if (prepared.Question is { } question)
        {
            Written(await row.ExecuteUpdateAsync(u => u
                .SetProperty(c => c.SecurityQuestion, question)
                .SetProperty(c => c.SecurityAnswerHash, prepared.AnswerHash)
                .SetProperty(c => c.SecurityQuestionChanged, now), cancellationToken), uid);
            logger.LogInformation("Set the security question of member {Uid}", uid);
        }
    }

    /// <summary>
    /// The row was ensured just before, so an update that wrote nothing means the member was deleted, meanwhile or before
    /// the row could be ensured: a concurrency conflict, never a silent success.
    /// </summary>
    private static void Written(int rows, long uid)
    {
        if (rows == 0)
        {
            throw new DbUpdateConcurrencyException($"The credentials of member {uid} changed while they were being written.");
        }
    }

    /// <summary>
    /// Ends the member's sessions other than <paramref name="keepSessionId"/> (all of them when null) and everything
    /// the <see cref="IPasswordChangeRevoker"/>s handed out for the member (the apps' OAuth tokens and codes, whatever
    /// the session). Joins the caller's transaction: call it in the same transaction as the new password.
    /// </summary>
    public async Task EndOtherSessionsAsync(long uid, long? keepSessionId, CancellationToken cancellationToken)
    {
        await using var transaction = await JoinedTransaction.BeginAsync(db, cancellationToken);
        await (keepSessionId is { } keep
            ? tokens.RevokeMemberExceptAsync(uid, keep, cancellationToken)
            : tokens.RevokeMemberAsync(uid, cancellationToken));
        foreach (var revoker in revokers)
        {
            await revoker.RevokeAsync(uid, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Creates the member's (empty) credentials row unless it exists. Why raw SQL: INSERT … ON CONFLICT DO NOTHING (same
    /// syntax on SQLite and PostgreSQL) creates it once under concurrent first writes and never aborts a caller's
    /// PostgreSQL transaction the way a caught unique violation would. Only for a live member. Why: a secret is hashed
    /// after the member was checked (tens of milliseconds), and a deletion committed meanwhile has erased the row (its
    /// erasers run in its transaction); the write that follows then finds no row, so no hash is left behind for a deleted
    /// member (<see cref="Written"/> reports the conflict). On SQLite the write and a deletion cannot interleave. On
    /// PostgreSQL this statement alone does not see a deletion not yet committed when it runs: every write of an existing
    /// member's secrets therefore takes <see cref="LiveMembers.LockAsync"/> first in its transaction, which waits for
    /// such a deletion and then finds no live member, so nothing is written.
    /// </summary>
    private Task<int> EnsureRowAsync(long uid, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlInterpolatedAsync(
            $"INSERT INTO member_credentials (uid) SELECT uid FROM members WHERE uid = {uid} AND deleted IS NULL ON CONFLICT (uid) DO NOTHING", cancellationToken);

    /// <summary>
    /// Takes the member's row lock for the caller's transaction (<see cref="LiveMembers.LockAsync"/>); a deleted member is
    /// the same concurrency conflict <see cref="Written"/> reports, so callers answer as they did for a deletion that
    /// committed before the write.
    /// </summary>
    private async Task LockLiveMemberAsync(long uid, CancellationToken cancellationToken)
    {
        if (!await LiveMembers.LockAsync(db, uid, cancellationToken))
        {
            throw new DbUpdateConcurrencyException($"Member {uid} was deleted before its credentials were written.");
        }
    }

    /// <summary>
    /// Locked (or waiting) when the failure counter holds the member, NotSet without <paramref name="hash"/>, each after one
    /// Argon2id verification against a dummy, so that they take as long as a wrong secret; null when the secret is to be checked.
    /// </summary>
    private async Task<SecretCheck?> RefuseUncheckableAsync(StoredSecrets stored, string secret, string? hash, CancellationToken cancellationToken)
    {
        var refused = FailureCounter.StateOf(stored.HasFailureRow, stored.LockedUntil, clock.GetUtcNow()).Locked ? SecretCheck.Locked
            : hash is null ? SecretCheck.NotSet
            : (SecretCheck?)null;
        if (refused is not null)
        {
            await hasher.VerifyAgainstDummyAsync(secret, cancellationToken);
        }

        return refused;
    }

    /// <summary>
    /// A member's hashes and failure state by uid (as <see cref="FindSecretsAsync"/> reads them by name); all null for a
    /// member that is deleted (its credentials and counter were erased with it) or unknown.
    /// </summary>
    private async Task<StoredSecrets> SecretsOfAsync(long uid, CancellationToken cancellationToken) =>
        await SecretsAsync(uid, null, null, cancellationToken) ?? new StoredSecrets(uid, null, null, false, null);

    /// <summary>
    /// The live member with this uid, display-name key and/or verified email key (every one given must fit), left-joined
    /// with its credentials and failure-counter rows, in one compiled statement. A null argument drops its condition:
    /// EF Core builds the SQL for the arguments given, so each caller's statement is a plain index lookup.
    /// </summary>
    private Task<StoredSecrets?> SecretsAsync(long? uid, string? displayNameKey, string? emailKey, CancellationToken cancellationToken)
    {
        var query = SecretsQueries.GetValue(db.Model, _ => EF.CompileAsyncQuery(
            (PanDbContext context, long? byUid, string? nameKey, string? email, CancellationToken _) => (
                    from m in context.Members
                    where m.Deleted == null
                        && (byUid == null || m.Uid == byUid)
                        && (nameKey == null || m.DisplayNameKey == nameKey)
                        && (email == null || (m.EmailKey == email && m.EmailVerified))
                    from c in context.Set<MemberCredential>().Where(c => c.Uid == m.Uid).DefaultIfEmpty()
                    from f in context.Set<LoginFailure>().Where(f => f.Uid == m.Uid).DefaultIfEmpty()
                    select new StoredSecrets(m.Uid, c == null ? null : c.PasswordHash, c == null ? null : c.SecurityAnswerHash, f != null, f == null ? null : f.LockedUntil))
                .AsNoTracking()
                .FirstOrDefault()));
        return query(db, uid, displayNameKey, emailKey, cancellationToken);
    }

    private async Task<(SecretCheck Result, bool NeedsRehash)> CheckAsync(StoredSecrets secrets, string secret, string? stored, CancellationToken cancellationToken)
    {
        var uid = secrets.Uid;
        if (await RefuseUncheckableAsync(secrets, secret, stored, cancellationToken) is { } refused)
        {
            return (refused, false);
        }

        var check = await hasher.VerifyAsync(secret, stored!, cancellationToken);
        if (!check.Matches)
        {
            await failures.RecordFailureAsync(uid, cancellationToken);
            return (SecretCheck.Wrong, false);
        }

        return await failures.SucceedUnlessLockedAsync(uid, cancellationToken) ? (SecretCheck.Ok, check.NeedsRehash) : (SecretCheck.Locked, false);
    }

    private async Task RehashPasswordAsync(long uid, string password, string stored, CancellationToken cancellationToken)
    {
        var fresh = await hasher.HashAsync(password, cancellationToken);
        // Why: only replace the hash that was checked; a password changed meanwhile is not overwritten.
        var changed = await db.Set<MemberCredential>().Where(c => c.Uid == uid && c.PasswordHash == stored)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.PasswordHash, fresh), cancellationToken);
        if (changed == 1)
        {
            logger.LogInformation("Re-hashed the password of member {Uid} with the current Argon2id parameters", uid);
        }
    }
}
