using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Server.Errors;

namespace Pan.Server.Email;

/// <summary>
/// Security notices to a member's verified email (password changed or reset, …). Why they never fail the caller: they
/// follow a change that is already committed; a notice that cannot go out (after the transport's retries) is logged as
/// an error instead, so the client does not repeat a change that happened. Members without a verified email get none.
/// </summary>
public sealed class EmailNotices(PanDbContext db, Mailer mailer, ILogger<EmailNotices> logger)
{
    public async Task NotifyAsync(long uid, EmailKind kind, CancellationToken cancellationToken)
    {
        var member = await db.Members.AsNoTracking().Where(m => m.Uid == uid && m.Deleted == null)
            .Select(m => new { m.Email, m.EmailVerified, m.DisplayName, m.Locale }).FirstOrDefaultAsync(cancellationToken);
        if (member is not { EmailVerified: true, Email: { } address })
        {
            return;
        }

        await SendAsync(uid, address, member.DisplayName, member.Locale, kind, cancellationToken);
    }

    /// <summary>Sends a notice to <paramref name="address"/> (e.g. the previous address after an email change).</summary>
    public async Task SendAsync(long uid, string address, string? displayName, string? locale, EmailKind kind, CancellationToken cancellationToken)
    {
        try
        {
            await mailer.SendAsync(address, displayName, locale, kind, new EmailModel(displayName), cancellationToken);
        }
        catch (DependencyUnavailableException ex)
        {
            logger.LogError(ex, "Could not send the {Kind} notice of member {Uid}", kind, uid);
        }
    }
}
