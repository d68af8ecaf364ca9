using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Accounts;
using Pan.Data.Imports;
using Pan.Data.Members;
using Pan.Server.Members;

namespace Pan.Server.Cli.Import;

/// <summary>A row the import will write: the legacy member, its (possibly suffixed) display name, and its phone's slot.</summary>
public sealed record PlannedMember(LegacyMember Row, string DisplayName, string DisplayNameKey, PhoneSlot? Slot);

/// <summary>
/// Writes one planned import batch in one transaction: takes the batch's account ids and member uids up front, so
/// every row is complete (hash_uid, default member) before it is written; then multi-row INSERTs of the accounts, the
/// members and the import map, the version bump of existing accounts the batch joined, the password hashes, and last
/// the batch's audit line (<see cref="AuditOutcome"/>), so a batch commits only with its line.
/// </summary>
/// <remarks>
/// Why not EF's SaveChanges: it tracks every entity and sends one statement per row (plus a second round of updates for
/// hash_uid, which needs the uid); that was almost all of the import's time. <see cref="BulkSql"/> still takes columns
/// and parameter types from the EF model.
/// </remarks>
public sealed class ImportBatchWriter(PanDbContext db, HashUids hashUids, ILegacyPasswordWriter passwords, TimeProvider clock)
{
    /// <summary>The outcome of a written batch's audit line: how many members it imported and the file lines they came from.</summary>
    public static string AuditOutcome(IReadOnlyList<PlannedMember> batch) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"ok: batch: imported {batch.Count}, lines {batch.Min(p => p.Row.Line)}-{batch.Max(p => p.Row.Line)}");

    /// <param name="writeAuditLine">Writes the batch's audit line (given its outcome) in the batch's transaction.</param>
    public async Task WriteAsync(IReadOnlyList<PlannedMember> batch, Func<string, CancellationToken, Task> writeAuditLine, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // One new account per phoneless row and per phone that has no account yet (rows sharing a phone share its slot).
        var newAccountCount = batch.Count(p => p.Slot is null) + batch.Where(p => p.Slot is { AccountId: null }).Select(p => p.Slot).Distinct().Count();
        var accountIds = new Queue<long>(await BulkSql.AllocateIdsAsync(db, "accounts", "id", newAccountCount, cancellationToken));
        var uids = await BulkSql.AllocateIdsAsync(db, "members", "uid", batch.Count, cancellationToken);

        var accounts = new List<Account>();
        var members = new List<Member>(batch.Count);
        var joined = new HashSet<long>();
        var pendingIds = new Dictionary<PhoneSlot, Account>();
        for (var i = 0; i < batch.Count; i++)
        {
            var (p, row) = (batch[i], batch[i].Row);
            var member = new Member
            {
                Uid = uids[i],
                ObjectId = Guid.CreateVersion7(now),
                HashUid = hashUids.Encode(uids[i]),
                DisplayName = p.DisplayName,
                DisplayNameKey = p.DisplayNameKey,
                Username = row.Username,
                Email = row.Email,
                EmailKey = row.Email is null ? null : EmailAddresses.Key(row.Email),
                MigrationStatus = row.MigrationStatus,
                Created = row.Created ?? now,
                Modified = now,
            };
            if (p.Slot?.AccountId is { } existing)
            {
                member.AccountId = existing;
                joined.Add(existing);
            }
            else if (p.Slot is not null && pendingIds.TryGetValue(p.Slot, out var shared))
            {
                member.AccountId = shared.Id;
            }
            else
            {
                var account = new Account
                {
                    Id = accountIds.Dequeue(),
                    PhoneE164 = row.Phone?.E164,
                    PhoneCountryCode = row.Phone?.CountryCode ?? 0,
                    DefaultMemberUid = member.Uid,
                    Created = member.Created,
                    Modified = now,
                };
                accounts.Add(account);
                member.AccountId = account.Id;
                member.IsOwner = true;
                if (p.Slot is not null)
                {
                    pendingIds[p.Slot] = account;
                    p.Slot.Pending = account;
                }
            }

            members.Add(member);
        }

        await BulkSql.InsertAsync(db, accounts, cancellationToken);
        await BulkSql.InsertAsync(db, members, cancellationToken);
        await BulkSql.InsertAsync(db, members.Select((m, i) => new ImportMapEntry
        {
            Source = batch[i].Row.Source,
            LegacyId = batch[i].Row.LegacyId,
            Uid = m.Uid,
            Imported = now,
        }).ToList(), cancellationToken);
        if (joined.Count > 0)
        {
            // Why: bumping the version of an existing account makes a concurrent NewMember on that phone retry, so the cap holds.
            await db.Accounts.Where(a => joined.Contains(a.Id)).ExecuteUpdateAsync(u => u.SetProperty(a => a.Version, a => a.Version + 1), cancellationToken);
        }

        var hashes = batch.Select((p, i) => (p.Row.PasswordHash, Uid: uids[i])).Where(h => h.PasswordHash is not null)
            .Select(h => new LegacyPasswordHash(h.Uid, h.PasswordHash!)).ToList();
        if (hashes.Count > 0)
        {
            await passwords.WriteAsync(hashes, cancellationToken);
        }

        await writeAuditLine(AuditOutcome(batch), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
