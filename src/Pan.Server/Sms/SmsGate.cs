using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Sms;
using Pan.Server.Phones;

namespace Pan.Server.Sms;

/// <summary>Why an SMS was not sent. A blocked send never reaches a provider.</summary>
public enum SmsBlockReason
{
    None,
    CountryNotAllowed,
    PhoneHourlyCap,
    PhoneDailyCap,
    IpHourlyCap,
    IpDailyCap,
    CountryHourlyCap,
    CountryDailyCap,
}

/// <summary>What an SMS is for (kept with the send log; caps count every purpose).</summary>
public enum SmsPurpose
{
    Register,
    Login,
    ValidatePhone,
    Verify,
    Reset,
    Activation,
    Internal,
}

/// <summary>A send whose log row <see cref="SmsGate.Reserve"/> staged; hand it to <see cref="SmsGate.SendReservedAsync"/> once saved.</summary>
public sealed record SmsReservation(SmsSend Entry, PhoneNumber To, SmsPurpose Purpose);

public sealed record SmsSendResult(bool Sent, SmsBlockReason Blocked)
{
    public static SmsSendResult Ok { get; } = new(true, SmsBlockReason.None);
}

/// <summary>
/// The one door to SMS: checks the country allow-list and the per-phone / per-IP / per-country caps (counted in the
/// database, so every node sees the same numbers), then hands the text to the configured provider.
/// A provider that still fails after its retries throws <see cref="Errors.DependencyUnavailableException"/>.
/// </summary>
/// <remarks>
/// <para>Every request is logged in <c>sms_sends</c>. Caps count the last hour / 24 hours of rows that were not blocked
/// (sent, failed — the message may have gone out — or still pending); blocked rows are kept for the record but count
/// against nothing, so an attacker hammering a number cannot keep it blocked past the window.</para>
/// <para>Exact under concurrency, without locks: a send first commits a <c>Pending</c> row, then counts (its own row
/// included) and blocks itself when a count exceeds the cap. Of several racing sends, the one committed last sees all
/// the others, so the caps are never exceeded; at worst two racers both see each other and both are blocked.</para>
/// <para>The log is written by single statements outside any transaction: each commits by itself, so an operation that
/// fails after sending still counts. Call the gate outside a database transaction — an SMS cannot be rolled back, and
/// on SQLite a caller holding the write lock would block the log's write. The one exception is the reservation row of
/// <see cref="Reserve"/>, which the caller commits with its own rows (through the change tracker) before
/// <see cref="SendReservedAsync"/> counts and sends.</para>
/// <para>Sends with purpose <see cref="SmsPurpose.Internal"/> (trusted back ends on a few addresses) record the client
/// address but skip the per-IP caps; per-phone and per-country caps still apply.</para>
/// </remarks>
public sealed class SmsGate(
    PanDbContext callerDb,
    IServiceScopeFactory scopes,
    ISmsProvider provider,
    SmsCountries countries,
    IOptions<SmsLimitsOptions> limits,
    IOptions<SmsRiskOptions> risk,
    TimeProvider clock,
    ILogger<SmsGate> logger)
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    public async Task<SmsSendResult> SendAsync(PhoneNumber to, string text, SmsPurpose purpose, IPAddress? clientIp, CancellationToken cancellationToken)
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
            return Blocked(SmsBlockReason.CountryNotAllowed, to, purpose);
        }

        // The reservation: committed before counting, so racing sends on any node see each other.
        entry.Id = await InsertAsync(db, entry, cancellationToken);
        return await CountAndSendAsync(db, entry, to, text, purpose, cancellationToken);
    }

    /// <summary>A send's log row: pending, or blocked at once when the number's country is not allowed (no provider call).</summary>
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

        return entry;
    }

    /// <summary>
    /// Stages the log row of a send (pending, or blocked at once when the country is not allowed) on the request's
    /// context without saving it: the caller's next SaveChanges commits it together with the caller's own rows (a
    /// phone flow's new session and its first code's reservation are one commit). Then call
    /// <see cref="SendReservedAsync"/>, outside any transaction.
    /// </summary>
    public SmsReservation Reserve(PhoneNumber to, SmsPurpose purpose, IPAddress? clientIp)
    {
        ArgumentNullException.ThrowIfNull(to);
        var entry = NewLogRow(to, purpose, clientIp);
        callerDb.Add(entry);
        return new SmsReservation(entry, to, purpose);
    }

    /// <summary>
    /// <see cref="SendAsync"/> for a send whose log row <see cref="Reserve"/> staged and the caller has since saved:
    /// the same caps, counted after that commit, the same provider call and outcome.
    /// </summary>
    public async Task<SmsSendResult> SendReservedAsync(SmsReservation reservation, string text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        ArgumentException.ThrowIfNullOrEmpty(text);
        var entry = reservation.Entry;
        var tracked = callerDb.Entry(entry);
        if (tracked.State != EntityState.Unchanged || entry.Id == 0 || callerDb.Database.CurrentTransaction is not null)
        {
            throw new InvalidOperationException("SmsGate.SendReservedAsync needs the reservation saved and committed, and no open transaction.");
        }

        // Why: the outcome is written by a statement of its own; the context need not track the row any longer.
        tracked.State = EntityState.Detached;
        return entry.Outcome == SmsSendOutcome.Blocked
            ? Blocked(SmsBlockReason.CountryNotAllowed, reservation.To, reservation.Purpose)
            : await CountAndSendAsync(callerDb, entry, reservation.To, text, reservation.Purpose, cancellationToken);
    }

    /// <summary>Counts the caps with <paramref name="entry"/> (committed as pending) included, then sends or blocks it.</summary>
    private async Task<SmsSendResult> CountAndSendAsync(
        PanDbContext db, SmsSend entry, PhoneNumber to, string text, SmsPurpose purpose, CancellationToken cancellationToken)
    {
        var capped = await CheckCapsAsync(db, entry, checkIp: purpose != SmsPurpose.Internal, cancellationToken);
        if (capped != SmsBlockReason.None)
        {
            await SetOutcomeAsync(db, entry.Id, SmsSendOutcome.Blocked, capped.ToString());
            return Blocked(capped, to, purpose);
        }

        // Why: a provider failure (or a cancelled request) still counts — the message may have gone out.
        var outcome = SmsSendOutcome.Failed;
        try
        {
            await provider.SendAsync(to, text, cancellationToken);
            outcome = SmsSendOutcome.Sent;
        }
        finally
        {
            await SetOutcomeAsync(db, entry.Id, outcome, null);
        }

        logger.LogInformation("SMS ({Purpose}) sent to number ending {PhoneSuffix}", purpose, to.Suffix);
        return SmsSendResult.Ok;
    }

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
        var sends = Counted(scope.ServiceProvider.GetRequiredService<PanDbContext>(), clock.GetUtcNow() - Hour);
        var phoneHash = SmsKeys.Phone(to);
        if (await sends.CountAsync(s => s.PhoneHash == phoneHash, cancellationToken) >= rules.PhonePerHour)
        {
            return true;
        }

        var ip = SmsKeys.Ip(clientIp);
        return ip is not null && await sends.CountAsync(s => s.Ip == ip, cancellationToken) >= rules.IpPerHour;
    }

    private SmsSendResult Blocked(SmsBlockReason reason, PhoneNumber to, SmsPurpose purpose)
    {
        logger.LogWarning("SMS ({Purpose}) to number ending {PhoneSuffix} blocked: {Reason}", purpose, to.Suffix, reason);
        return new SmsSendResult(false, reason);
    }

    /// <summary>Logs one send request (a statement of its own, committed at once); returns its id.</summary>
    /// <remarks>
    /// Why SQL rather than the change tracker: the log rows are written and updated once each on the hot path of every
    /// phone flow, outside any transaction, and a tracked entity would also make the caller's next SaveChanges write
    /// them. INSERT … RETURNING is the same on SQLite and PostgreSQL; instants are stored as Unix milliseconds.
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

    /// <summary>The first cap that <paramref name="entry"/> (already saved as pending) exceeds, or None.</summary>
    private async Task<SmsBlockReason> CheckCapsAsync(PanDbContext db, SmsSend entry, bool checkIp, CancellationToken cancellationToken)
    {
        var caps = limits.Value;
        var counts = await CountCapsAsync(db, entry, checkIp ? entry.Ip : null, cancellationToken);
        if (counts.PhoneHour > caps.PerPhonePerHour)
        {
            return SmsBlockReason.PhoneHourlyCap;
        }

        if (counts.PhoneDay > caps.PerPhonePerDay)
        {
            return SmsBlockReason.PhoneDailyCap;
        }

        if (counts.IpHour > caps.PerIpPerHour)
        {
            return SmsBlockReason.IpHourlyCap;
        }

        if (counts.IpDay > caps.PerIpPerDay)
        {
            return SmsBlockReason.IpDailyCap;
        }

        if (counts.CountryHour > caps.PerCountryPerHour)
        {
            return SmsBlockReason.CountryHourlyCap;
        }

        return counts.CountryDay > caps.PerCountryPerDay ? SmsBlockReason.CountryDailyCap : SmsBlockReason.None;
    }

    /// <summary>
    /// Every cap's counts for <paramref name="entry"/>'s phone, address (none when <paramref name="ip"/> is null) and
    /// country, in one statement.
    /// </summary>
    /// <remarks>
    /// Why raw SQL: each key is one aggregate without GROUP BY over its covering (key, created, outcome) index, and the
    /// three are cross-joined (each has exactly one row), so one round trip counts all six. The LINQ form (GroupBy on a
    /// constant) made SQLite sort every counted row in a temporary B-tree, and took three round trips. Same syntax on
    /// SQLite and PostgreSQL; instants are stored as Unix milliseconds, Blocked is 3.
    /// </remarks>
    private static async Task<CapCounts> CountCapsAsync(PanDbContext db, SmsSend entry, string? ip, CancellationToken cancellationToken)
    {
        var dayAgo = (entry.Created - Day).ToUnixTimeMilliseconds();
        var hourAgo = (entry.Created - Hour).ToUnixTimeMilliseconds();
        var phoneHash = entry.PhoneHash;
        var countryCode = entry.CountryCode;
        const int blocked = (int)SmsSendOutcome.Blocked;
        var query = ip is null
            ? db.Database.SqlQuery<CapCounts>($"""
                SELECT p.n_day AS "PhoneDay", p.n_hour AS "PhoneHour", CAST(0 AS bigint) AS "IpDay", CAST(0 AS bigint) AS "IpHour", c.n_day AS "CountryDay", c.n_hour AS "CountryHour"
                FROM (SELECT COUNT(*) AS n_day, COUNT(*) FILTER (WHERE created > {hourAgo}) AS n_hour FROM sms_sends
                      WHERE phone_hash = {phoneHash} AND created > {dayAgo} AND outcome <> {blocked}) AS p
                CROSS JOIN (SELECT COUNT(*) AS n_day, COUNT(*) FILTER (WHERE created > {hourAgo}) AS n_hour FROM sms_sends
                      WHERE country_code = {countryCode} AND created > {dayAgo} AND outcome <> {blocked}) AS c
                """)
            : db.Database.SqlQuery<CapCounts>($"""
                SELECT p.n_day AS "PhoneDay", p.n_hour AS "PhoneHour", i.n_day AS "IpDay", i.n_hour AS "IpHour", c.n_day AS "CountryDay", c.n_hour AS "CountryHour"
                FROM (SELECT COUNT(*) AS n_day, COUNT(*) FILTER (WHERE created > {hourAgo}) AS n_hour FROM sms_sends
                      WHERE phone_hash = {phoneHash} AND created > {dayAgo} AND outcome <> {blocked}) AS p
                CROSS JOIN (SELECT COUNT(*) AS n_day, COUNT(*) FILTER (WHERE created > {hourAgo}) AS n_hour FROM sms_sends
                      WHERE ip = {ip} AND created > {dayAgo} AND outcome <> {blocked}) AS i
                CROSS JOIN (SELECT COUNT(*) AS n_day, COUNT(*) FILTER (WHERE created > {hourAgo}) AS n_hour FROM sms_sends
                      WHERE country_code = {countryCode} AND created > {dayAgo} AND outcome <> {blocked}) AS c
                """);
        var rows = await query.ToListAsync(cancellationToken);
        return rows.Single();
    }

    /// <summary>Rows that count against caps and risk: created after <paramref name="since"/> and not blocked.</summary>
    private static IQueryable<SmsSend> Counted(PanDbContext db, DateTimeOffset since) =>
        db.Set<SmsSend>().AsNoTracking().Where(s => s.Created > since && s.Outcome != SmsSendOutcome.Blocked);

    /// <summary>Rows counted against each cap (not blocked) in the last day and the last hour.</summary>
    private sealed record CapCounts(long PhoneDay, long PhoneHour, long IpDay, long IpHour, long CountryDay, long CountryHour);
}
