using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Email;
using Pan.Server.Errors;

namespace Pan.Server.Email;

/// <summary>
/// Sends queued mail. Several nodes may share one database, so a row is first claimed by one conditional UPDATE (pending,
/// due, and not leased to anyone now → leased to me, attempts + 1); of racing nodes exactly one changes the row, on
/// SQLite and PostgreSQL alike. The lease outlasts one whole send (every SMTP attempt and backoff), and a sender writes
/// the result only while the row still carries its own claim (<c>attempts</c> unchanged), so a row is sent once unless
/// a node dies between the relay's acceptance and the commit (then it may be sent again after the lease: at least once).
/// A failed send is retried after a doubling delay (<see cref="MailOutboxOptions"/>) until the row's code expires; then
/// it is abandoned. Sent and abandoned rows lose their payload at once; nothing secret is logged.
/// </summary>
public sealed class MailOutboxSender(
    IServiceScopeFactory scopes,
    Mailer mailer,
    TimeProvider clock,
    IOptions<MailOutboxOptions> options,
    IOptions<SmtpOptions> smtp,
    ILogger<MailOutboxSender> logger)
{
    private const int Batch = 20;

    /// <summary>Sends every row due now that this node can claim; returns how many it claimed.</summary>
    public async Task<int> SendDueAsync(CancellationToken cancellationToken)
    {
        var claimed = 0;
        while (true)
        {
            var due = await DueAsync(cancellationToken);
            var progressed = false;
            foreach (var id in due)
            {
                if (await TrySendAsync(id, cancellationToken))
                {
                    claimed++;
                    progressed = true;
                }
            }

            // Why stop when nothing was claimed: every due row went to other nodes; a failed row is no longer due.
            if (!progressed)
            {
                return claimed;
            }
        }
    }

    /// <summary>Claims row <paramref name="id"/> if nobody holds it and sends it; false when another node has it or it is not due.</summary>
    public async Task<bool> TrySendAsync(long id, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var now = clock.GetUtcNow();
        var leaseEnd = now + Lease();
        var changed = await db.Set<MailOutboxEntry>()
            .Where(e => e.Id == id && e.State == MailOutboxState.Pending && e.NextAttempt <= now && (e.ClaimedUntil == null || e.ClaimedUntil <= now))
            .ExecuteUpdateAsync(u => u.SetProperty(e => e.ClaimedUntil, leaseEnd).SetProperty(e => e.Attempts, e => e.Attempts + 1), cancellationToken);
        if (changed != 1)
        {
            return false;
        }

        var row = await db.Set<MailOutboxEntry>().AsNoTracking().FirstAsync(e => e.Id == id, cancellationToken);
        if (row.Expires <= now || row.Payload is null)
        {
            logger.LogWarning("Gave up on queued {Kind} mail {Id} of member {Uid} after {Attempts} attempt(s): its code expired ({LastError})",
                row.Kind, row.Id, row.Uid, row.Attempts - 1, row.LastError);
            await FinishAsync(db, row, MailOutboxState.Abandoned, DeliveryOutcome.Failed, "its code expired before it could be sent");
            return true;
        }

        try
        {
            var payload = MailOutboxPayload.Parse(row.Payload);
            await mailer.SendAsync(payload.To, payload.DisplayName, payload.Locale, Enum.Parse<EmailKind>(row.Kind), payload.Model(), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down mid-send: hand the row back at once rather than when the lease ends.
            await Claimed(db, row).ExecuteUpdateAsync(u => u.SetProperty(e => e.ClaimedUntil, (DateTimeOffset?)null), CancellationToken.None);
            throw;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            await RetryLaterAsync(db, row, ex);
            return true;
        }

        // Why not cancellable: the relay has the mail; its row must say so (and lose its payload) even while shutting down.
        await FinishAsync(db, row, MailOutboxState.Sent, DeliveryOutcome.Sent, null);
        return true;
    }

    private async Task<List<long>> DueAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        var now = clock.GetUtcNow();
        return await db.Set<MailOutboxEntry>().AsNoTracking()
            .Where(e => e.State == MailOutboxState.Pending && e.NextAttempt <= now && (e.ClaimedUntil == null || e.ClaimedUntil <= now))
            .OrderBy(e => e.NextAttempt).ThenBy(e => e.Id).Select(e => e.Id).Take(Batch).ToListAsync(cancellationToken);
    }

    private async Task RetryLaterAsync(PanDbContext db, MailOutboxEntry row, Exception ex)
    {
        var delay = Backoff(row.Attempts);
        var next = clock.GetUtcNow() + delay;
        // Why only the message of our own exception: DependencyUnavailableException names the failure, never the
        // recipient; anything else (a bug) is recorded by type, since its message might quote the payload.
        var error = ex is DependencyUnavailableException ? ex.Message : ex.GetType().Name;
        error = error.Length > 256 ? error[..256] : error;
        await Claimed(db, row).ExecuteUpdateAsync(u => u
            .SetProperty(e => e.NextAttempt, next)
            .SetProperty(e => e.ClaimedUntil, (DateTimeOffset?)null)
            .SetProperty(e => e.LastError, error), CancellationToken.None);
        logger.LogWarning(ex is DependencyUnavailableException ? null : ex,
            "Queued {Kind} mail {Id} of member {Uid} not sent (attempt {Attempt}: {Error}); next try in {Delay}",
            row.Kind, row.Id, row.Uid, row.Attempts, error, delay);
    }

    private async Task FinishAsync(PanDbContext db, MailOutboxEntry row, MailOutboxState state, DeliveryOutcome outcome, string? error)
    {
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
        var changed = await Claimed(db, row).ExecuteUpdateAsync(u => u
            .SetProperty(e => e.State, state)
            .SetProperty(e => e.Payload, (string?)null)
            .SetProperty(e => e.Finished, now)
            .SetProperty(e => e.ClaimedUntil, (DateTimeOffset?)null)
            .SetProperty(e => e.LastError, error), CancellationToken.None);
        if (changed == 1 && row.DeliveryAttemptId is { } attempt)
        {
            await db.Set<DeliveryAttempt>().Where(a => a.Id == attempt)
                .ExecuteUpdateAsync(u => u.SetProperty(a => a.Outcome, outcome), CancellationToken.None);
        }

        await transaction.CommitAsync(CancellationToken.None);
    }

    /// <summary>The row while it still carries this sender's claim (nobody re-claimed or replaced it since).</summary>
    private static IQueryable<MailOutboxEntry> Claimed(PanDbContext db, MailOutboxEntry row)
    {
        var (id, attempts) = (row.Id, row.Attempts);
        return db.Set<MailOutboxEntry>().Where(e => e.Id == id && e.Attempts == attempts && e.State == MailOutboxState.Pending);
    }

    /// <summary>
    /// How long a claim holds: one whole send — every SMTP attempt at its time limit, the backoffs between them at their
    /// longest — plus a minute for rendering and the database.
    /// </summary>
    private TimeSpan Lease()
    {
        var s = smtp.Value;
        var attempts = TimeSpan.FromSeconds((double)s.TimeoutSeconds * (s.Retries + 1));
        var backoffs = TimeSpan.FromMilliseconds(s.RetryDelayMilliseconds * (Math.Pow(2, s.Retries) - 1) * 1.2);
        return attempts + backoffs + TimeSpan.FromMinutes(1);
    }

    /// <summary><c>RetryDelaySeconds</c> doubled per earlier failure, at most <c>MaxRetryDelaySeconds</c>, ±20 % jitter.</summary>
    private TimeSpan Backoff(int attempts)
    {
        var o = options.Value;
        var seconds = Math.Min(o.MaxRetryDelaySeconds, o.RetryDelaySeconds * Math.Pow(2, Math.Min(attempts - 1, 20)));
        return TimeSpan.FromMilliseconds(seconds * 1000 * RandomNumberGenerator.GetInt32(80, 121) / 100);
    }
}
