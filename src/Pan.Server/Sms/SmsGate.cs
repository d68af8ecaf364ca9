using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Sms;
using Pan.Server.Phones;

namespace Pan.Server.Sms;

/// <summary>
/// The one door to SMS: checks the country allow-list, that the number can receive SMS, that no operator blocked it
/// (<see cref="PhoneBlocks.PhoneBlocks"/>), and the per-phone / per-IP / per-country caps (counted in the
/// database, so every node sees the same numbers), then hands the text to the configured provider.
/// A provider that still fails after its retries throws <see cref="Errors.DependencyUnavailableException"/>.
/// </summary>
/// <remarks>
/// <para>Every request is logged in <c>sms_sends</c>. The caps count <c>sms_counts</c>: per key (phone, client address,
/// country) one bucket per minute and one per hour. A send adds one to each of its keys' buckets in the same commit as
/// its log row; the hourly caps sum the last 61 minute buckets, the daily caps the last 25 hour buckets. So a send
/// counts for 60 to 61 minutes against the hourly caps and 24 to 25 hours against the daily ones — never less than the
/// window — and a check reads at most 86 small rows per key however busy the key is (counting log rows instead made
/// every send scan the whole day of its country and its address). Sends that were not blocked count (sent, failed —
/// the message may have gone out — or still pending); a blocked send takes its counts back, so an attacker hammering a
/// number cannot keep it blocked past the window.</para>
/// <para>Exact under concurrency, with no lock held across the check: a send first commits its counts, then sums (its own included) and
/// blocks itself when a sum exceeds the cap. Of several racing sends, the one committed last sees all the others, so
/// the caps are never exceeded; at worst two racers both see each other and both are blocked.</para>
/// <para>The gate commits its own rows, outside the caller's work: an operation that fails after sending still counts.
/// Call it outside a database transaction — an SMS cannot be rolled back, and on SQLite a caller holding the write lock
/// would block the gate's write. The one exception is <see cref="ReserveAsync{T}"/>, which commits a send's log row and
/// counts together with the caller's own rows before <see cref="SendReservedAsync"/> sums and sends.</para>
/// <para>Every destination is re-typed here, not only where a user types it: a number already stored (an import, a
/// phone set by an admin, a row older than the check) that libphonenumber does not type MOBILE or FIXED_LINE_OR_MOBILE
/// (<see cref="PhoneNumbers.ParseForSms"/>) is blocked as <see cref="SmsBlockReason.CannotReceiveSms"/>, like a country
/// off the allow-list: logged, no provider call, nothing counted.</para>
/// <para>Sends with purpose <see cref="SmsPurpose.Internal"/> (trusted back ends on a few addresses) count against
/// their client address but skip the per-IP caps; per-phone and per-country caps still apply.</para>
/// <para>PostgreSQL: adding to a bucket locks its row until the commit, so the sends of one country (and of one
/// address) commit one after another — a ceiling of about one send per commit latency per country, far above any
/// country cap Pan is configured with.</para>
/// </remarks>
public sealed partial class SmsGate(
    PanDbContext callerDb,
    IServiceScopeFactory scopes,
    ISmsProvider provider,
    SmsCountries countries,
    PhoneNumbers phones,
    IOptions<SmsLimitsOptions> limits,
    IOptions<SmsRiskOptions> risk,
    TimeProvider clock,
    ILogger<SmsGate> logger,
    IOptions<SmsOptions> settings,
    Metrics.PanMetrics metrics)
{
    /// <summary>Logs, counts and sends one SMS; <paramref name="reserved"/>, if given, runs in the transaction that commits the send's log row and counts, with its id.</summary>
    public async Task<SmsSendResult> SendAsync(
        PhoneNumber to, string text, SmsPurpose purpose, IPAddress? clientIp, CancellationToken cancellationToken,
        Func<long, CancellationToken, Task>? reserved = null)
    {
        ArgumentNullException.ThrowIfNull(to);
        ArgumentException.ThrowIfNullOrEmpty(text);
        if (callerDb.Database.CurrentTransaction is not null)
        {
            throw new InvalidOperationException("SmsGate.SendAsync must be called outside a database transaction: send after committing.");
        }

        var db = callerDb;
        var entry = NewLogRow(to, purpose, clientIp);
        if (entry.Outcome == SmsSendOutcome.Blocked)
        {
            await InsertAsync(db, entry, CancellationToken.None);
            return Blocked(ReasonOf(entry), to, purpose);
        }

        // The reservation: the log row and its counts, committed before summing, so racing sends on any node see each other.
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            entry.Id = await InsertAsync(db, entry, cancellationToken);
            await AddCountsAsync(db, entry, 1, cancellationToken);
            if (reserved is not null)
            {
                await reserved(entry.Id, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        return await CountAndSendAsync(db, entry, to, text, purpose, cancellationToken);
    }

    /// <summary>
    /// Sends once more a message whose first attempt (log row <paramref name="sendId"/>) passed the caps and was counted,
    /// and whose provider failed: no new log row, no new count, no cap check (SMS outbox retries). The row's outcome
    /// becomes Sent or Failed.
    /// </summary>
    public async Task<SmsSendResult> ResendAsync(long sendId, PhoneNumber to, string text, SmsPurpose purpose, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(to);
        ArgumentException.ThrowIfNullOrEmpty(text);
        if (callerDb.Database.CurrentTransaction is not null)
        {
            throw new InvalidOperationException("SmsGate.ResendAsync must be called outside a database transaction.");
        }

        // Why checked again: the number may have been blocked since the first attempt; no SMS of any kind goes to it then.
        if (await PhoneBlocks.PhoneBlocks.IsBlockedAsync(callerDb, to.E164, clock.GetUtcNow(), cancellationToken))
        {
            await SetOutcomeAsync(callerDb, sendId, SmsSendOutcome.Blocked, nameof(SmsBlockReason.PhoneBlocked));
            return Blocked(SmsBlockReason.PhoneBlocked, to, purpose);
        }

        await ProvideAsync(callerDb, sendId, to, text, cancellationToken);
        logger.LogInformation("SMS ({Purpose}) sent again to number ending {PhoneSuffix}", purpose, to.Suffix);
        return SmsSendResult.Ok;
    }

    /// <summary>
    /// A send's log row: pending, or blocked at once (no provider call, no count) when the number's country is not
    /// allowed or the number cannot receive SMS.
    /// </summary>
    private SmsSend NewLogRow(PhoneNumber to, SmsPurpose purpose, IPAddress? clientIp)
    {
        var entry = new SmsSend
        {
            PhoneHash = SmsKeys.Phone(to),
            CountryCode = to.CountryCode,
            Ip = SmsKeys.Ip(clientIp),
            Purpose = purpose.ToString(),
            Outcome = SmsSendOutcome.Pending,
            Created = clock.GetUtcNow(),
        };
        if (!countries.IsAllowed(to))
        {
            entry.Outcome = SmsSendOutcome.Blocked;
            entry.BlockedReason = nameof(SmsBlockReason.CountryNotAllowed);
        }
        else if (phones.ParseForSms(null, to.E164, out _) is null)
        {
            // Why here: stored numbers (imports, admins, older rows) reach the gate without the check typed input gets.
            entry.Outcome = SmsSendOutcome.Blocked;
            entry.BlockedReason = nameof(SmsBlockReason.CannotReceiveSms);
        }

        return entry;
    }

    /// <summary>
    /// Runs <paramref name="save"/> (the caller's own SaveChanges) in a transaction that also writes a send's log row
    /// (pending, or blocked at once when the country is not allowed) and its counts: one commit for both (a phone flow's
    /// new session holding a code never exists without its send on record). Then call <see cref="SendReservedAsync"/>,
    /// outside any transaction.
    /// </summary>
    public async Task<(T Saved, SmsReservation Reservation)> ReserveAsync<T>(
        PhoneNumber to, SmsPurpose purpose, IPAddress? clientIp, Func<CancellationToken, Task<T>> save, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(to);
        ArgumentNullException.ThrowIfNull(save);
        if (callerDb.Database.CurrentTransaction is not null)
        {
            throw new InvalidOperationException("SmsGate.ReserveAsync opens its own transaction: call it outside one.");
        }

        var entry = NewLogRow(to, purpose, clientIp);
        callerDb.Add(entry);
        // Why no savepoints: EF Core would wrap the caller's SaveChanges in SAVEPOINT … RELEASE so that a failed save
        // could be undone alone (on PostgreSQL the RELEASE is a round trip of its own); here any failure undoes the
        // whole reservation, as TokenService.IssueAuthTokenAsync does for its transaction.
        var savepoints = callerDb.Database.AutoSavepointsEnabled;
        callerDb.Database.AutoSavepointsEnabled = false;
        try
        {
            await using var transaction = await callerDb.Database.BeginTransactionAsync(cancellationToken);
            var saved = await save(cancellationToken);
            if (entry.Outcome != SmsSendOutcome.Blocked)
            {
                await AddCountsAsync(callerDb, entry, 1, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return (saved, new SmsReservation(entry, to, purpose));
        }
        finally
        {
            callerDb.Database.AutoSavepointsEnabled = savepoints;
            // Why: the outcome is written by a statement of its own; the context must not save (or retry) the row again.
            callerDb.Entry(entry).State = EntityState.Detached;
        }
    }

    /// <summary>
    /// <see cref="SendAsync"/> for a send <see cref="ReserveAsync{T}"/> committed: the same caps, summed after that
    /// commit, the same provider call and outcome.
    /// </summary>
    public async Task<SmsSendResult> SendReservedAsync(SmsReservation reservation, string text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        ArgumentException.ThrowIfNullOrEmpty(text);
        var entry = reservation.Entry;
        if (entry.Id == 0 || callerDb.Database.CurrentTransaction is not null)
        {
            throw new InvalidOperationException("SmsGate.SendReservedAsync needs the reservation committed, and no open transaction.");
        }

        return entry.Outcome == SmsSendOutcome.Blocked
            ? Blocked(ReasonOf(entry), reservation.To, reservation.Purpose)
            : await CountAndSendAsync(callerDb, entry, reservation.To, text, reservation.Purpose, cancellationToken);
    }

    /// <summary>Counts the caps with <paramref name="entry"/> (committed as pending) included, then sends or blocks it.</summary>
    private async Task<SmsSendResult> CountAndSendAsync(
        PanDbContext db, SmsSend entry, PhoneNumber to, string text, SmsPurpose purpose, CancellationToken cancellationToken)
    {
        var capped = await CheckCapsAsync(db, entry, to, checkIp: purpose != SmsPurpose.Internal, cancellationToken);
        if (capped != SmsBlockReason.None)
        {
            // Why never cancelled: the counts must be taken back and the row must not stay pending.
            await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
            await AddCountsAsync(db, entry, -1, CancellationToken.None);
            await SetOutcomeAsync(db, entry.Id, SmsSendOutcome.Blocked, capped.ToString());
            await transaction.CommitAsync(CancellationToken.None);
            return Blocked(capped, to, purpose);
        }

        await ProvideAsync(db, entry.Id, to, text, cancellationToken);
        logger.LogInformation("SMS ({Purpose}) sent to number ending {PhoneSuffix}", purpose, to.Suffix);
        return SmsSendResult.Ok;
    }

    /// <summary>Hands the text to the provider and records the outcome of log row <paramref name="id"/>.</summary>
    private async Task ProvideAsync(PanDbContext db, long id, PhoneNumber to, string text, CancellationToken cancellationToken)
    {
        // Why: a provider failure (or a cancelled request) still counts — the message may have gone out.
        var outcome = SmsSendOutcome.Failed;
        try
        {
            await provider.SendAsync(to, text, cancellationToken);
            outcome = SmsSendOutcome.Sent;
        }
        finally
        {
            metrics.SmsSend(outcome == SmsSendOutcome.Sent ? "sent" : "provider_failed", "none", settings.Value.Provider ?? "none");
            await SetOutcomeAsync(db, id, outcome, null);
        }
    }

    private static SmsBlockReason ReasonOf(SmsSend entry) => Enum.Parse<SmsBlockReason>(entry.BlockedReason!);

    /// <summary>True when a send to <paramref name="to"/> from <paramref name="clientIp"/> trips the risk rules (captcha mode 'risk').</summary>
    /// <remarks>
    /// Risky when the country is in <c>Pan:Sms:Risk:HighRiskCountries</c>, or the phone already had
    /// <c>Pan:Sms:Risk:PhonePerHour</c> sends in the last hour, or the client address <c>Pan:Sms:Risk:IpPerHour</c>.
    /// </remarks>
    public async Task<bool> IsRiskyAsync(PhoneNumber to, IPAddress? clientIp, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(to);
        var rules = risk.Value;
        if (countries.IsHighRisk(to))
        {
            return true;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var counts = await CountCapsAsync(db, CounterKeys.Of(SmsKeys.Phone(to), SmsKeys.Ip(clientIp), countryCode: null), clock.GetUtcNow(), cancellationToken);
        return counts.PhoneHour >= rules.PhonePerHour || (clientIp is not null && counts.IpHour >= rules.IpPerHour);
    }

    private SmsSendResult Blocked(SmsBlockReason reason, PhoneNumber to, SmsPurpose purpose)
    {
        logger.LogWarning("SMS ({Purpose}) to number ending {PhoneSuffix} blocked: {Reason}", purpose, to.Suffix, reason);
        var (outcome, cap) = reason switch
        {
            SmsBlockReason.CountryNotAllowed => ("refused_country", "none"),
            SmsBlockReason.CannotReceiveSms => ("refused_not_mobile", "none"),
            SmsBlockReason.PhoneBlocked => ("refused_blocked_phone", "none"),
            SmsBlockReason.PhoneHourlyCap => ("capped", "phone_hour"),
            SmsBlockReason.PhoneDailyCap => ("capped", "phone_day"),
            SmsBlockReason.IpHourlyCap => ("capped", "ip_hour"),
            SmsBlockReason.IpDailyCap => ("capped", "ip_day"),
            SmsBlockReason.CountryHourlyCap => ("capped", "country_hour"),
            SmsBlockReason.CountryDailyCap => ("capped", "country_day"),
            _ => ("refused", "none"),
        };
        metrics.SmsSend(outcome, cap, settings.Value.Provider ?? "none");
        return new SmsSendResult(false, reason);
    }

    /// <summary>Logs one send request (committed at once, or with the send's counts); returns its id.</summary>
    /// <remarks>
    /// Why SQL rather than the change tracker: the log rows are written and updated once each on the hot path of every
    /// phone flow, and a tracked entity would also make the caller's next SaveChanges write them. INSERT … RETURNING is
    /// the same on SQLite and PostgreSQL; instants are stored as Unix milliseconds.
    /// </remarks>
    private static async Task<long> InsertAsync(PanDbContext db, SmsSend entry, CancellationToken cancellationToken)
    {
        var created = entry.Created.ToUnixTimeMilliseconds();
        var outcome = (int)entry.Outcome;
        var ids = await db.Database.SqlQuery<long>($"""
            INSERT INTO sms_sends (phone_hash, country_code, ip, purpose, outcome, blocked_reason, created)
            VALUES ({entry.PhoneHash}, {entry.CountryCode}, {entry.Ip}, {entry.Purpose}, {outcome}, {entry.BlockedReason}, {created})
            RETURNING id AS "Value"
            """).ToListAsync(cancellationToken);
        return ids.Single();
    }

    /// <summary>Records what became of a logged send. Never cancelled: the row must not stay pending.</summary>
    private static Task<int> SetOutcomeAsync(PanDbContext db, long id, SmsSendOutcome outcome, string? blockedReason) =>
        db.Database.ExecuteSqlInterpolatedAsync(
            $"UPDATE sms_sends SET outcome = {(int)outcome}, blocked_reason = {blockedReason} WHERE id = {id}", CancellationToken.None);
}
