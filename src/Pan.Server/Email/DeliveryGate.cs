using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Email;
using Pan.Server.Sms;

namespace Pan.Server.Email;

/// <summary>The kinds of delivery the gate counts (the <c>purpose</c> column of <c>delivery_attempts</c>).</summary>
public static class DeliveryPurposes
{
    public const string VerifyEmail = "verify-email";
    public const string Reset = "reset";
    public const string ResetPhone = "reset-phone";
    public const string LoginCode = "login-code";
}

/// <summary>Why a delivery may not happen now.</summary>
public enum DeliveryBlock
{
    None,
    Cooldown,
    TargetCap,
    MemberCap,
    IpCap,
}

/// <summary>A reserved delivery (<see cref="Allowed"/>), or why none is allowed and when to retry.</summary>
public sealed record DeliveryReservation(long Id, DeliveryBlock Block, int RetryAfterSeconds)
{
    public bool Allowed => Block == DeliveryBlock.None;
}

/// <summary>
/// The cool-down and hourly caps of emails and recovery requests, counted in <c>delivery_attempts</c> so every node sees
/// the same numbers. Exact under concurrency like the SMS gate: a request first commits a Pending row, then counts (its
/// own row included) and blocks itself when a count exceeds a cap or an earlier row of the same kind to the same target
/// is within the cool-down; of racing requests the last committed sees the others. Writes through its own
/// <see cref="PanDbContext"/>, so the log commits whatever the caller does afterwards.
/// </summary>
public sealed class DeliveryGate(
    IServiceScopeFactory scopes, IOptions<EmailLimitsOptions> limits, TimeProvider clock, ILogger<DeliveryGate> logger, Metrics.PanMetrics metrics)
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    /// <summary>Reserves one delivery of <paramref name="purpose"/> to <paramref name="targetHash"/> (for <paramref name="uid"/>, from <paramref name="clientIp"/>).</summary>
    public async Task<DeliveryReservation> ReserveAsync(string purpose, long? uid, byte[] targetHash, IPAddress? clientIp, CancellationToken cancellationToken)
    {
        var caps = limits.Value;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var entry = new DeliveryAttempt
        {
            Purpose = purpose,
            Uid = uid,
            TargetHash = targetHash,
            Ip = SmsKeys.Ip(clientIp),
            Outcome = DeliveryOutcome.Pending,
            Created = clock.GetUtcNow(),
        };
        db.Add(entry);
        await db.SaveChangesAsync(cancellationToken);

        var now = entry.Created;
        var hourAgo = now - Hour;
        var counted = db.Set<DeliveryAttempt>().AsNoTracking()
            .Where(a => a.Created > hourAgo && a.Outcome != DeliveryOutcome.Blocked && a.Outcome != DeliveryOutcome.Cancelled);
        var id = entry.Id;
        var block = DeliveryBlock.None;
        var retryAfter = 0;
        if (caps.CooldownSeconds > 0)
        {
            var since = now.AddSeconds(-caps.CooldownSeconds);
            var latest = await counted.Where(a => a.TargetHash == targetHash && a.Purpose == purpose && a.Id != id && a.Created > since)
                .OrderByDescending(a => a.Created).Select(a => (DateTimeOffset?)a.Created).FirstOrDefaultAsync(cancellationToken);
            if (latest is { } last)
            {
                block = DeliveryBlock.Cooldown;
                retryAfter = Math.Max(1, (int)Math.Ceiling((last.AddSeconds(caps.CooldownSeconds) - now).TotalSeconds));
            }
        }

        if (block == DeliveryBlock.None && await counted.CountAsync(a => a.TargetHash == targetHash, cancellationToken) > caps.PerTargetPerHour)
        {
            block = DeliveryBlock.TargetCap;
        }

        if (block == DeliveryBlock.None && uid is not null && await counted.CountAsync(a => a.Uid == uid, cancellationToken) > caps.PerMemberPerHour)
        {
            block = DeliveryBlock.MemberCap;
        }

        if (block == DeliveryBlock.None && entry.Ip is { } ip && await counted.CountAsync(a => a.Ip == ip, cancellationToken) > caps.PerIpPerHour)
        {
            block = DeliveryBlock.IpCap;
        }

        if (block == DeliveryBlock.None)
        {
            return new DeliveryReservation(id, block, 0);
        }

        await SetOutcomeAsync(db, id, DeliveryOutcome.Blocked, CancellationToken.None);
        if (purpose != DeliveryPurposes.ResetPhone)
        {
            // Why not a reset by phone: its caps are these, but what it refuses is a text, not a mail.
            metrics.EmailSend("capped", block switch
            {
                DeliveryBlock.Cooldown => "cooldown",
                DeliveryBlock.TargetCap => "address_hour",
                DeliveryBlock.MemberCap => "member_hour",
                _ => "ip_hour",
            });
        }

        logger.LogInformation("Delivery ({Purpose}) blocked: {Reason}", purpose, block);
        // Why: a cap lifts when the oldest counted row leaves the hour; an hour is the honest upper bound to report.
        return new DeliveryReservation(id, block, block == DeliveryBlock.Cooldown ? retryAfter : (int)Hour.TotalSeconds);
    }

    /// <summary>Records how a reserved delivery ended (Sent, Failed, Skipped or Cancelled).</summary>
    public async Task FinishAsync(DeliveryReservation reservation, DeliveryOutcome outcome)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        // Why: not cancellable — the outcome must be recorded even when the caller went away.
        await SetOutcomeAsync(db, reservation.Id, outcome, CancellationToken.None);
    }

    /// <summary>Records the outcome through <paramref name="db"/>, inside the caller's transaction (e.g. Queued with the outbox row).</summary>
    public static Task RecordWithinAsync(PanDbContext db, DeliveryReservation reservation, DeliveryOutcome outcome, CancellationToken cancellationToken) =>
        SetOutcomeAsync(db, reservation.Id, outcome, cancellationToken);

    /// <summary>
    /// Records the outcome through <paramref name="db"/> in a transaction of its own, not cancellable (like
    /// <see cref="FinishAsync"/>). For a recovery request that matched nobody: it commits one database transaction, the
    /// same shape as a matched request's (code, outbox row and Queued together), so neither answer tells a match by how
    /// it commits.
    /// </summary>
    public static async Task RecordAloneAsync(PanDbContext db, DeliveryReservation reservation, DeliveryOutcome outcome)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
        await SetOutcomeAsync(db, reservation.Id, outcome, CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
    }

    private static Task<int> SetOutcomeAsync(PanDbContext db, long id, DeliveryOutcome outcome, CancellationToken cancellationToken) =>
        db.Set<DeliveryAttempt>().Where(a => a.Id == id).ExecuteUpdateAsync(u => u.SetProperty(a => a.Outcome, outcome), cancellationToken);
}
