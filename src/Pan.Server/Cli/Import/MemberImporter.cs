using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Server.Data;
using Pan.Server.DisplayNames;
using Pan.Server.Members;

namespace Pan.Server.Cli.Import;

/// <summary>
/// Imports legacy members from a JSON Lines or CSV file (see <see cref="LegacyRowValidator"/> for the fields).
/// <list type="bullet">
/// <item>Idempotent: keyed on (source, legacy_id) in <c>import_map</c>; a row imported by an earlier run is skipped, so
/// re-running a file changes nothing (and re-running it after fixing bad rows imports just those).</item>
/// <item>Bad rows (unreadable, a field check fails, a duplicate legacy_id in the file, a username or email already
/// used, a phone already holding <c>Pan:Members:MaxPerPhone</c> live members) are reported with their line and skipped.</item>
/// <item>Members sharing a phone are grouped under one account (the first imported is the owner and default member),
/// joining an existing account of that phone if there is one; members without a phone get an account of their own
/// with no phone. A taken display name is suffixed ("name_2", "name_3", …, cut to fit 20 characters) and reported.</item>
/// <item>Fast: the keys to check against are loaded once, so no row costs a lookup; rows are written in batches of
/// <c>--batch-size</c> (default 1000), one transaction each, with the batch's audit line (<see cref="ImportBatchWriter"/>). Should a batch hit a
/// unique index (a member registered meanwhile), the keys are reloaded and the batch is planned and written once more;
/// rows that still collide are reported.</item>
/// </list>
/// </summary>
public sealed class MemberImporter(
    PanDbContext db, LegacyRowValidator validator, ImportBatchWriter writer, IOptions<MembersOptions> members, ILogger<MemberImporter> logger)
{
    public const int DefaultBatchSize = 1000;
    private const int MaxSuffix = 9999;

    /// <param name="progress">Called after each batch with the number of rows handled so far.</param>
    /// <param name="writeAuditLine">Writes a batch's audit line (given its outcome) in the batch's transaction.</param>
    public async Task<ImportReport> ImportAsync(
        string path, int batchSize, Action<int>? progress, Func<string, CancellationToken, Task> writeAuditLine, CancellationToken cancellationToken)
    {
        var report = new ImportReport();
        var keys = await ImportKeys.LoadAsync(db, cancellationToken);
        var seen = new Dictionary<(string, string), int>();
        var chunk = new List<LegacyMember>(batchSize);
        await foreach (var record in LegacyFileReader.ReadAsync(path, cancellationToken))
        {
            report.Read++;
            var (member, problem) = validator.Validate(record);
            if (member is null)
            {
                report.BadRows.Add(new ImportIssue(record.Line, problem!));
            }
            else
            {
                chunk.Add(member);
            }

            if (chunk.Count >= batchSize)
            {
                keys = await FlushAsync(chunk, keys, seen, report, writeAuditLine, cancellationToken);
                chunk.Clear();
                progress?.Invoke(report.Read);
            }
        }

        await FlushAsync(chunk, keys, seen, report, writeAuditLine, cancellationToken);
        progress?.Invoke(report.Read);
        report.BadRows.Sort((a, b) => a.Line.CompareTo(b.Line));
        logger.LogInformation("Import of {File}: {Read} row(s), {Imported} imported, {Already} already imported, {Bad} bad, {Renamed} renamed",
            Path.GetFileName(path), report.Read, report.Imported, report.AlreadyImported, report.BadRows.Count, report.Renamed.Count);
        return report;
    }

    /// <summary>Plans and writes one batch; returns the keys to go on with (reloaded after a collision).</summary>
    private async Task<ImportKeys> FlushAsync(
        List<LegacyMember> rows, ImportKeys keys, Dictionary<(string, string), int> seen, ImportReport report, Func<string, CancellationToken, Task> writeAuditLine,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var plan = Plan(rows, keys, seen);
            try
            {
                await writer.WriteAsync(plan.Members, writeAuditLine, cancellationToken);
            }
            catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out var what))
            {
                db.ChangeTracker.Clear();
                logger.LogWarning("An import batch collided with a unique index ({Index}); reloading keys (attempt {Attempt})", what, attempt);
                keys = await ImportKeys.LoadAsync(db, cancellationToken);
                if (attempt < 2)
                {
                    continue;
                }

                Merge(plan, report, seen, written: false);
                return keys;
            }

            Merge(plan, report, seen, written: true);
            return keys;
        }
    }

    private static void Merge(BatchPlan plan, ImportReport report, Dictionary<(string, string), int> seen, bool written)
    {
        report.AlreadyImported += plan.AlreadyImported;
        report.BadRows.AddRange(plan.Bad);
        foreach (var (key, line) in plan.Seen)
        {
            seen[key] = line;
        }

        if (!written)
        {
            report.BadRows.AddRange(plan.Members.Select(p => new ImportIssue(p.Row.Line, "could not be written: it collides with a member written meanwhile; re-run the import")));
            return;
        }

        report.Imported += plan.Members.Count;
        report.Renamed.AddRange(plan.Renamed);
        foreach (var p in plan.Members)
        {
            if (p.Slot?.Pending is { } account)
            {
                p.Slot.AccountId = account.Id;
                p.Slot.Pending = null;
            }
        }
    }

    /// <summary>Matches a batch against the keys (and reserves what it takes in them); no database access.</summary>
    private BatchPlan Plan(List<LegacyMember> rows, ImportKeys keys, Dictionary<(string, string), int> seen)
    {
        var plan = new BatchPlan();
        var batchSeen = plan.Seen;
        var maxPerPhone = members.Value.MaxPerPhone;
        foreach (var row in rows)
        {
            var key = (row.Source, row.LegacyId);
            if (seen.TryGetValue(key, out var first) || batchSeen.TryGetValue(key, out first))
            {
                plan.Bad.Add(new ImportIssue(row.Line, $"legacy_id: duplicates line {first}"));
                continue;
            }

            if (keys.Imported.Contains(key))
            {
                batchSeen[key] = row.Line;
                plan.AlreadyImported++;
                continue;
            }

            var problem = row.Username is not null && keys.Usernames.Contains(row.Username) ? "username: is taken by another member"
                : row.Email is not null && keys.EmailKeys.Contains(EmailAddresses.Key(row.Email)) ? "email: is used by another member"
                : null;
            PhoneSlot? slot = null;
            if (problem is null && row.Phone is not null)
            {
                slot = keys.Phones.GetValueOrDefault(row.Phone.E164);
                if (keys.BlockedPhones.Contains(row.Phone.E164))
                {
                    problem = "phone: is blocked (phones unblock it, then run the file again)";
                }
                else if (slot is not null && slot.LiveMembers >= maxPerPhone)
                {
                    problem = $"phone: already holds {slot.LiveMembers} members (Pan:Members:MaxPerPhone is {maxPerPhone})";
                }
            }

            var (name, nameKey) = problem is null ? FreeName(row.DisplayName, keys.DisplayNameKeys) : (null, null);
            if (problem is null && name is null)
            {
                problem = "display_name: it and its suffixed forms are all taken";
            }

            if (problem is not null)
            {
                plan.Bad.Add(new ImportIssue(row.Line, problem));
                continue;
            }

            batchSeen[key] = row.Line;
            if (row.Username is not null)
            {
                keys.Usernames.Add(row.Username);
            }

            if (row.Email is not null)
            {
                keys.EmailKeys.Add(EmailAddresses.Key(row.Email));
            }

            if (row.Phone is not null)
            {
                slot ??= keys.Phones[row.Phone.E164] = new PhoneSlot();
                slot.LiveMembers++;
            }

            keys.DisplayNameKeys.Add(nameKey!);
            if (!string.Equals(name, row.DisplayName, StringComparison.Ordinal))
            {
                plan.Renamed.Add(new ImportIssue(row.Line, $"display_name \"{row.DisplayName}\" is taken; imported as \"{name}\""));
            }

            plan.Members.Add(new PlannedMember(row, name!, nameKey!, slot));
        }

        return plan;
    }

    /// <summary>The name itself when free, else the first free "name_N" (the name cut so the whole fits the length rule).</summary>
    private static (string? Name, string? Key) FreeName(string name, HashSet<string> taken)
    {
        var key = DisplayNameRules.Key(name);
        if (!taken.Contains(key))
        {
            return (name, key);
        }

        var elements = System.Globalization.StringInfo.GetTextElementEnumerator(name);
        var parts = new List<string>();
        while (elements.MoveNext())
        {
            parts.Add((string)elements.Current);
        }

        for (var n = 2; n <= MaxSuffix; n++)
        {
            var suffix = "_" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var stem = string.Concat(parts.Take(DisplayNameRules.MaxLength - suffix.Length)).TrimEnd();
            var candidate = stem + suffix;
            var candidateKey = DisplayNameRules.Key(candidate);
            if (!taken.Contains(candidateKey) && DisplayNameRules.Check(candidate) == DisplayNameProblem.None)
            {
                return (candidate, candidateKey);
            }
        }

        return (null, null);
    }

    private sealed class BatchPlan
    {
        public List<PlannedMember> Members { get; } = [];

        public List<ImportIssue> Bad { get; } = [];

        public List<ImportIssue> Renamed { get; } = [];

        public int AlreadyImported { get; set; }

        /// <summary>The keys of the batch's rows that were imported or skipped as already imported, with their lines.</summary>
        public Dictionary<(string, string), int> Seen { get; } = [];
    }
}
