using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Sms;
using Pan.Server.Phones;

namespace Pan.Server.Sms;

/// <summary>The caps half of the gate: counting a send in its buckets and summing them (see <see cref="SmsGate"/>).</summary>
public sealed partial class SmsGate
{
    /// <summary>
    /// <see cref="SmsBlockReason.PhoneBlocked"/> when an operator's block of <paramref name="to"/> applies, else the
    /// first cap that <paramref name="entry"/> (already saved as pending) exceeds, or None.
    /// </summary>
    private async Task<SmsBlockReason> CheckCapsAsync(PanDbContext db, SmsSend entry, PhoneNumber to, bool checkIp, CancellationToken cancellationToken)
    {
        var caps = limits.Value;
        var keys = CounterKeys.Of(entry.PhoneHash, checkIp ? entry.Ip : null, entry.CountryCode);
        var counts = await CountCapsAsync(db, keys, entry.Created, cancellationToken, blockedE164: to.E164);
        if (counts.Blocked > 0)
        {
            return SmsBlockReason.PhoneBlocked;
        }

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
    /// Adds <paramref name="delta"/> to the minute and hour buckets of <paramref name="entry"/>'s phone, client address
    /// (when known) and country, in one statement.
    /// </summary>
    /// <remarks>
    /// Why raw SQL: an upsert (INSERT … ON CONFLICT DO UPDATE) is not something the change tracker can express, and it
    /// must add to whatever a racing send on another node committed. The same text runs on SQLite and PostgreSQL (a
    /// VALUES list names its columns column1…column3 on both); rows whose key is null (no client address) are skipped.
    /// Rows are listed phone, address, country on every send, so racing sends lock shared rows in one order.
    /// </remarks>
    private static Task<int> AddCountsAsync(PanDbContext db, SmsSend entry, int delta, CancellationToken cancellationToken)
    {
        var keys = CounterKeys.Of(entry.PhoneHash, entry.Ip, entry.CountryCode);
        var (minute, hour) = Buckets(entry.Created);
        const int m = SmsCount.MinuteSpan;
        const int h = SmsCount.HourSpan;
        return db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO sms_counts (counter, span, bucket, sends)
            SELECT column1, column2, column3, {delta} FROM (VALUES
                ({keys.Phone}, {m}, {minute}), ({keys.Phone}, {h}, {hour}),
                ({keys.Ip}, {m}, {minute}), ({keys.Ip}, {h}, {hour}),
                ({keys.Country}, {m}, {minute}), ({keys.Country}, {h}, {hour})) AS v
            WHERE column1 IS NOT NULL
            ON CONFLICT (counter, span, bucket) DO UPDATE SET sends = sms_counts.sends + excluded.sends
            """, cancellationToken);
    }

    /// <summary>
    /// Every cap's count at <paramref name="at"/> for the keys (a null key counts 0), in one statement: each is the sum
    /// of a range of the counters' primary key, the last 61 minute buckets or the last 25 hour buckets. The same
    /// statement says whether an operator's block of <paramref name="blockedE164"/> applies at <paramref name="at"/>.
    /// </summary>
    /// <remarks>
    /// Why the block is read here: it is a statement every send already runs after its reservation, so the check adds
    /// one primary-key probe of <c>blocked_phones</c> to it and no round trip, and it reads the database, so a block or
    /// an unblock on any node holds for the next send everywhere.
    /// </remarks>
    private static async Task<CapCounts> CountCapsAsync(
        PanDbContext db, CounterKeys keys, DateTimeOffset at, CancellationToken cancellationToken, string? blockedE164 = null)
    {
        var atMs = at.ToUnixTimeMilliseconds();
        var (minute, hour) = Buckets(at);
        var hourFrom = minute - 60;
        var dayFrom = hour - (24 * 60);
        const int m = SmsCount.MinuteSpan;
        const int h = SmsCount.HourSpan;
        var rows = await db.Database.SqlQuery<CapCounts>($"""
            SELECT
                (SELECT COALESCE(SUM(sends), 0) FROM sms_counts WHERE counter = {keys.Phone} AND span = {h} AND bucket >= {dayFrom}) AS "PhoneDay",
                (SELECT COALESCE(SUM(sends), 0) FROM sms_counts WHERE counter = {keys.Phone} AND span = {m} AND bucket >= {hourFrom}) AS "PhoneHour",
                (SELECT COALESCE(SUM(sends), 0) FROM sms_counts WHERE counter = {keys.Ip} AND span = {h} AND bucket >= {dayFrom}) AS "IpDay",
                (SELECT COALESCE(SUM(sends), 0) FROM sms_counts WHERE counter = {keys.Ip} AND span = {m} AND bucket >= {hourFrom}) AS "IpHour",
                (SELECT COALESCE(SUM(sends), 0) FROM sms_counts WHERE counter = {keys.Country} AND span = {h} AND bucket >= {dayFrom}) AS "CountryDay",
                (SELECT COALESCE(SUM(sends), 0) FROM sms_counts WHERE counter = {keys.Country} AND span = {m} AND bucket >= {hourFrom}) AS "CountryHour",
                (SELECT COUNT(*) FROM blocked_phones WHERE phone_e164 = {blockedE164} AND (expires IS NULL OR expires > {atMs})) AS "Blocked"
            """).ToListAsync(cancellationToken);
        return rows.Single();
    }

    /// <summary>The minute bucket and the hour bucket of an instant, in minutes since the Unix epoch.</summary>
    internal static (long Minute, long Hour) Buckets(DateTimeOffset at)
    {
        var minute = at.ToUnixTimeMilliseconds() / 60_000;
        return (minute, minute - (minute % 60));
    }

    /// <summary>Counts per cap (sends not blocked) in the last day and the last hour, and whether the number is blocked (1) or not (0).</summary>
    private sealed record CapCounts(long PhoneDay, long PhoneHour, long IpDay, long IpHour, long CountryDay, long CountryHour, long Blocked);

    /// <summary>The counter keys of one send; null where there is nothing to count (no client address, or not asked for).</summary>
    private sealed record CounterKeys(string Phone, string? Ip, string? Country)
    {
        public static CounterKeys Of(byte[] phoneHash, string? ip, int? countryCode) =>
            new("p:" + Convert.ToHexString(phoneHash), ip is null ? null : "i:" + ip, countryCode is null ? null : "c:" + countryCode.Value);
    }
}
