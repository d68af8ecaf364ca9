using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using Pan.Data.Audit;
using Pan.Data.Email;
using Pan.Data.Guests;
using Pan.Data.HandOff;
using Pan.Data.Omniauth;
using Pan.Data.Passkeys;
using Pan.Data.Tokens;
using Pan.Server.Audit;
using Pan.Server.OAuth;
using Pan.Server.Passkeys;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Pan.Server.Export;

/// <summary>The export's parts about what the member did and what holds access for it: sign-ins, apps, logs.</summary>
public sealed partial class ExportDocument
{
    private async Task<JsonArray> SocialIdentitiesAsync(long uid, CancellationToken cancellationToken)
    {
        var rows = await db.Set<SocialIdentity>().AsNoTracking().Where(i => i.Uid == uid).OrderBy(i => i.Id).ToListAsync(cancellationToken);
        return Array(rows.Select(i => new JsonObject
        {
            ["provider"] = i.Provider,
            ["provider_user_id"] = i.ProviderUserId,
            ["created"] = DataExport.Time(i.Created),
            ["last_used"] = DataExport.Time(i.LastUsed),
        }));
    }

    /// <summary>The member's passkeys as ListPasskeys shows them (never the public key: it is the authenticator's, not the member's data).</summary>
    private async Task<JsonArray> PasskeysAsync(long uid, CancellationToken cancellationToken)
    {
        var rows = await db.Set<MemberPasskey>().AsNoTracking().Where(p => p.Uid == uid).OrderBy(p => p.Created).ThenBy(p => p.Id)
            .Select(p => new { p.CredentialId, p.Name, p.Created, p.LastUsed, p.Aaguid })
            .ToListAsync(cancellationToken);
        return Array(rows.Select(p => new JsonObject
        {
            ["passkey_id"] = PasskeyStore.PublicId(p.CredentialId),
            ["name"] = p.Name,
            ["aaguid"] = p.Aaguid.ToString("D"),
            ["created"] = DataExport.Time(p.Created),
            ["last_used"] = Time(p.LastUsed),
        }));
    }

    /// <summary>What the member allowed OAuth clients: every authorization Pan keeps for it (remembered consents and each code's grant).</summary>
    private async Task<JsonArray> OAuthConsentsAsync(Guid objectId, CancellationToken cancellationToken)
    {
        var subject = OAuthMembers.Subject(objectId);
        var rows = await db.Set<OpenIddictEntityFrameworkCoreAuthorization>().AsNoTracking()
            .Where(a => a.Subject == subject)
            .OrderBy(a => a.CreationDate)
            .Select(a => new { a.Application!.ClientId, a.Application.DisplayName, a.Scopes, a.Type, a.Status, a.CreationDate })
            .ToListAsync(cancellationToken);
        return Array(rows.Select(a => new JsonObject
        {
            ["client_id"] = a.ClientId,
            ["app_name"] = a.DisplayName,
            ["scopes"] = Array(Scopes(a.Scopes).Select(s => JsonValue.Create(s))),
            ["remembered"] = a.Type == AuthorizationTypes.Permanent,
            ["status"] = a.Status,
            ["created"] = a.CreationDate is { } created ? DataExport.Time(new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc))) : null,
        }));
    }

    /// <summary>The most sessions and audit lines the export lists (the newest); <c>*_total</c> says how many there are.</summary>
    public const int ListLimit = 1000;

    /// <summary>
    /// The apps holding a live token that speaks for the member: Pan access tokens, hand-off login tokens, social-login
    /// refresh tokens, apinode tokens and OAuth tokens; one entry per app and kind: how many, the first issued, the last
    /// to expire (null when one never expires). Never a token or its hash.
    /// </summary>
    /// <remarks>
    /// Why grouped: an app can hold thousands of live access tokens of one member within a day, and a document listing
    /// each could pass a gRPC client's 4 MB receive limit after the verify token was spent and the export counted; one
    /// entry per app and kind is bounded by the apps there are.
    /// </remarks>
    private async Task<JsonArray> AppTokensAsync(long uid, long generation, Guid objectId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var tokens = new List<(string App, string Kind, DateTimeOffset Created, DateTimeOffset? Expires)>();
        // Why through the sessions: access_tokens is indexed by session, and a live token's session is live.
        tokens.AddRange((await (
                from t in db.Set<StoredAccessToken>().AsNoTracking()
                join s in db.Set<AuthSession>() on t.SessionId equals s.Id
                where t.Uid == uid && t.Expires > now && t.TokenGeneration == generation && s.Revoked == null
                select new { t.AppId, t.Created, t.Expires }).ToListAsync(cancellationToken))
            .Select(t => (t.AppId, "access_token", t.Created, (DateTimeOffset?)t.Expires)));
        tokens.AddRange((await db.Set<StoredLoginToken>().AsNoTracking()
                .Where(t => t.Uid == uid && t.UsedAt == null && t.Expires > now && t.TokenGeneration == generation)
                .Select(t => new { t.AppId, t.Created, t.Expires }).ToListAsync(cancellationToken))
            .Select(t => (t.AppId, "hand_off_login_token", t.Created, (DateTimeOffset?)t.Expires)));
        tokens.AddRange((await db.Set<OmniauthRefreshToken>().AsNoTracking()
                .Where(t => t.Uid == uid && t.UsedAt == null && t.Expires > now && t.TokenGeneration == generation)
                .Select(t => new { t.AppId, t.Created, t.Expires }).ToListAsync(cancellationToken))
            .Select(t => (t.AppId, "social_login_refresh_token", t.Created, (DateTimeOffset?)t.Expires)));
        tokens.AddRange((await db.Set<GuestToken>().AsNoTracking()
                .Where(t => t.Uid == uid && t.Revoked == null && t.Expires > now && t.TokenGeneration == generation)
                .Select(t => new { t.AppId, t.Kind, t.Created, t.Expires }).ToListAsync(cancellationToken))
            .Select(t => (t.AppId, "apinode_" + t.Kind + "_token", t.Created, (DateTimeOffset?)t.Expires)));
        var subject = OAuthMembers.Subject(objectId);
        var utcNow = now.UtcDateTime;
        tokens.AddRange((await db.Set<OpenIddictEntityFrameworkCoreToken>().AsNoTracking()
                .Where(t => t.Subject == subject && t.Status == Statuses.Valid && (t.ExpirationDate == null || t.ExpirationDate > utcNow))
                .Select(t => new { t.Application!.ClientId, t.Type, t.CreationDate, t.ExpirationDate }).ToListAsync(cancellationToken))
            .Select(t => (t.ClientId ?? string.Empty, "oauth_" + t.Type, Utc(t.CreationDate) ?? now, Utc(t.ExpirationDate))));
        var groups = tokens.GroupBy(t => (t.App, t.Kind))
            .Select(g => (g.Key.App, g.Key.Kind, Count: g.Count(), First: g.Min(t => t.Created),
                Last: g.Any(t => t.Expires is null) ? null : g.Max(t => t.Expires)))
            .OrderBy(g => g.First).ThenBy(g => g.App, StringComparer.Ordinal).ThenBy(g => g.Kind, StringComparer.Ordinal);
        return Array(groups.Select(g => new JsonObject
        {
            ["app_id"] = g.App,
            ["kind"] = g.Kind,
            ["count"] = g.Count,
            ["first_created"] = DataExport.Time(g.First),
            ["last_expires"] = Time(g.Last),
        }));
    }

    /// <summary>
    /// The member's live sign-in sessions (Pan auth sessions it opened), the newest <see cref="ListLimit"/> oldest first,
    /// and how many there are. Why a limit: each sign-in opens one, and a client scripting password sign-ins opens as
    /// many as it likes within a session's lifetime, each with a user agent of up to 256 characters.
    /// </summary>
    private async Task<(JsonArray Sessions, int Total)> SessionsAsync(long uid, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var live = db.Set<AuthSession>().AsNoTracking().Where(s => s.Uid == uid && s.Revoked == null && s.Expires > now);
        var total = await live.CountAsync(cancellationToken);
        var rows = (await live
            .OrderByDescending(s => s.Created).ThenByDescending(s => s.Id)
            .Take(ListLimit)
            .Select(s => new { s.Created, s.Expires, s.AuthMethod, s.ClientIp, s.UserAgent })
            .ToListAsync(cancellationToken)).AsEnumerable().Reverse();
        // Why the device facts: they are what ListSessions shows the member of each sign-in (null when none was recorded).
        return (Array(rows.Select(s => new JsonObject
        {
            ["created"] = DataExport.Time(s.Created),
            ["expires"] = DataExport.Time(s.Expires),
            ["auth_method"] = s.AuthMethod,
            ["client_ip"] = s.ClientIp,
            ["user_agent"] = s.UserAgent,
        })), total);
    }

    /// <summary>The log of mail and texts Pan sent or was asked to send the member: purpose, outcome, when (not where to, nor from which address).</summary>
    private async Task<JsonArray> MessagesAsync(long uid, CancellationToken cancellationToken)
    {
        var rows = await db.Set<DeliveryAttempt>().AsNoTracking()
            .Where(a => a.Uid == uid)
            .OrderBy(a => a.Created)
            .Select(a => new { a.Purpose, a.Outcome, a.Created })
            .ToListAsync(cancellationToken);
        return Array(rows.Select(a => new JsonObject
        {
            ["purpose"] = a.Purpose,
            ["outcome"] = a.Outcome.ToString().ToLowerInvariant(),
            ["created"] = DataExport.Time(a.Created),
        }));
    }

    /// <summary>
    /// The audit lines about the member: those whose target is the member (its own deletion attempts and exports, staff's
    /// and operators' actions on it), and those it wrote itself about its account or an app. Who acted is said as
    /// member, staff or operator, never by the staff member's email or the operator's user name. The newest
    /// <see cref="ListLimit"/> oldest first, and how many there are: audit lines are kept for ever, and each export,
    /// sign-in failure lock or staff action on the member adds one.
    /// </summary>
    private async Task<(JsonArray Lines, int Total)> AuditAsync(long uid, Guid objectId, long accountId, CancellationToken cancellationToken)
    {
        var self = AuditLog.Member(uid);
        var about = new[] { self, "uid:" + uid.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var account = "account:" + accountId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var subject = OAuthMembers.Subject(objectId);
        var clients = await db.Set<OpenIddictEntityFrameworkCoreAuthorization>().AsNoTracking()
            .Where(a => a.Subject == subject)
            .Select(a => "client:" + a.Application!.ClientId)
            .Distinct()
            .ToListAsync(cancellationToken);
        var own = clients.Append(account).ToList();
        // Why by target: ix_audit_log_target finds these few lines without reading the whole log.
        var lines = db.Set<AuditEntry>().AsNoTracking()
            .Where(e => about.Contains(e.Target) || (own.Contains(e.Target) && e.Actor == self));
        var total = await lines.CountAsync(cancellationToken);
        var rows = (await lines
            .OrderByDescending(e => e.Id)
            .Take(ListLimit)
            .Select(e => new { e.At, e.Actor, e.Action, e.Outcome })
            .ToListAsync(cancellationToken)).AsEnumerable().Reverse();
        return (Array(rows.Select(e => new JsonObject
        {
            ["at"] = DataExport.Time(e.At),
            ["action"] = e.Action,
            ["outcome"] = e.Outcome,
            ["by"] = e.Actor == self ? "member"
                : e.Actor.StartsWith("member:", StringComparison.Ordinal) ? "another_member"
                : e.Actor.StartsWith("cli:", StringComparison.Ordinal) ? "operator"
                : "staff",
        })), total);
    }

    private static string[] Scopes(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize<string[]>(json) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private static DateTimeOffset? Utc(DateTime? value) =>
        value is { } v ? new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;
}
