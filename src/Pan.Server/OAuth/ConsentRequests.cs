using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using Pan.Data;
using Pan.Data.OAuth;
using Pan.Server.Errors;

namespace Pan.Server.OAuth;

/// <summary>
/// A pending consent request as shown on the consent screen. <see cref="RedirectUri"/> is null when the request left
/// redirect_uri out (RFC 6749 3.1.2.3, a request without openid from a client with one registered redirect URI).
/// </summary>
public sealed record PendingConsentView(string ClientId, string Parameters, IReadOnlyList<string> Scopes, Uri? RedirectUri);

/// <summary>What a finished consent request decided.</summary>
public sealed record ConsentDecision(bool Approved, IReadOnlyList<string> GrantedScopes, bool Remember);

/// <summary>
/// Pending consent requests (<c>oauth_pending_consents</c>): made by /connect/authorize when the member must be asked,
/// decided by the consent page or ConsentProcess.Approve / Reject, and used up exactly once when /connect/authorize
/// runs again with <c>pan_consent=&lt;request id&gt;</c> and issues the code (or the access_denied redirect). Every step
/// checks the member; the id is 256 random bits, stored as its SHA-256.
/// </summary>
/// <remarks>
/// Why a decided request stays open until it is used: the decision is its own commit, and /connect/authorize uses the
/// request up in the same transaction as the code it issues (<see cref="TokenTransaction"/>). If issuing the code
/// fails, nothing of it is left and the member's same decision (or the browser's retry of the redirect) finishes the
/// request; the last decision counts. Only using it up is once: a request yields one code or one refusal.
/// </remarks>
public sealed class ConsentRequests(PanDbContext db, IOptions<OAuthOptions> options, TimeProvider clock)
{
    public const int Waiting = 0, Approved = 1, Rejected = 2;

    /// <summary>Stores the authorization request (its parameters, without pan_consent) and returns the new request id.</summary>
    public async Task<string> CreateAsync(long uid, OpenIddictRequest request, CancellationToken cancellationToken)
    {
        var id = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var now = clock.GetUtcNow();
        var parameters = request.GetParameters()
            .Where(p => p.Key != OAuthPaths.ConsentParameter && (string?)p.Value is { Length: > 0 })
            .Select(p => new KeyValuePair<string, string?>(p.Key, (string?)p.Value));
        db.Add(new PendingConsent
        {
            IdHash = Hash(id),
            MemberUid = uid,
            ClientId = request.ClientId ?? string.Empty,
            Parameters = QueryString.Create(parameters).Value!.TrimStart('?'),
            Scopes = string.Join(' ', request.GetScopes()),
            Created = now,
            Expires = now.AddMinutes(options.Value.ConsentMinutes),
        });
        await db.SaveChangesAsync(cancellationToken);
        return id;
    }

    /// <summary>The member's own open (unused, unexpired) request; null otherwise (unknown, another member's, used, expired).</summary>
    public async Task<PendingConsentView?> FindOpenAsync(string? id, long uid, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 64)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        var hash = Hash(id);
        var row = await db.Set<PendingConsent>().AsNoTracking()
            .SingleOrDefaultAsync(p => p.IdHash == hash && p.MemberUid == uid && p.Used == null && p.Expires > now, cancellationToken);
        if (row is null)
        {
            return null;
        }

        // Why it may be missing: OpenIddict accepts a request without openid and without redirect_uri from a client with one
        // registered redirect URI, and answers there; reading it as required failed every step of such a consent.
        var query = QueryHelpers.ParseQuery(row.Parameters);
        return new PendingConsentView(row.ClientId, row.Parameters, row.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            query.TryGetValue(OpenIddictConstants.Parameters.RedirectUri, out var given) && Uri.TryCreate(given.ToString(), UriKind.Absolute, out var redirect)
                ? redirect
                : null);
    }

    /// <summary>
    /// Records the member's decision on their own open request (one not used up yet: a decision made again, after
    /// issuing the code failed, replaces the earlier one). Granted scopes outside the requested ones are dropped; none
    /// given means all requested; some given but none of them requested is INVALID_ARGUMENT granted_scopes (nothing is
    /// decided). Returns the stored parameters.
    /// </summary>
    /// <remarks>
    /// Why no member lock (<see cref="Deletion.LiveMembers"/>): the decision only updates the member's existing request,
    /// in one statement. A deletion that erased the request first leaves nothing to update (null); one that comes after
    /// erases the decided request with the rest. What the decision leads to is stored by /connect/authorize, which
    /// takes the lock.
    /// </remarks>
    public async Task<string?> DecideAsync(string? id, long uid, bool approve, IEnumerable<string> grantedScopes, bool remember, CancellationToken cancellationToken)
    {
        var pending = await FindOpenAsync(id, uid, cancellationToken);
        if (pending is null)
        {
            return null;
        }

        var given = grantedScopes.ToList();
        var granted = given.Where(pending.Scopes.Contains).Distinct(StringComparer.Ordinal).ToList();
        if (given.Count > 0 && granted.Count == 0)
        {
            // Why: an empty list means "all requested"; a list naming none of them is a choice that cannot be honoured,
            // and reading it as "all" would grant what the member did not tick.
            throw PanError.InvalidArgument("granted_scopes", "names none of the requested scopes");
        }

        var scopes = string.Join(' ', granted.Count == 0 ? pending.Scopes : granted);
        var hash = Hash(id!);
        var now = clock.GetUtcNow();
        var changed = await db.Set<PendingConsent>()
            .Where(p => p.IdHash == hash && p.MemberUid == uid && p.Used == null && p.Expires > now)
            .ExecuteUpdateAsync(s => s
                .SetProperty(p => p.Decision, approve ? Approved : Rejected)
                .SetProperty(p => p.GrantedScopes, approve ? scopes : null)
                .SetProperty(p => p.Remember, approve && remember), cancellationToken);
        return changed == 1 ? pending.Parameters : null;
    }

    /// <summary>
    /// Uses up the member's decided request, when <paramref name="request"/> is the very request it was made for (same
    /// client, redirect URI, state, PKCE challenge and nonce). Exactly one caller wins; null for everyone else. Runs in
    /// /connect/authorize's transaction, so a failure to issue the code leaves the request unused.
    /// </summary>
    public async Task<ConsentDecision?> ConsumeAsync(string id, long uid, OpenIddictRequest request, CancellationToken cancellationToken)
    {
        if (id.Length > 64)
        {
            return null;
        }

        var hash = Hash(id);
        var now = clock.GetUtcNow();
        var row = await db.Set<PendingConsent>().AsNoTracking()
            .SingleOrDefaultAsync(p => p.IdHash == hash && p.MemberUid == uid && p.Decision != Waiting && p.Used == null && p.Expires > now, cancellationToken);
        if (row is null || !SameRequest(row.Parameters, request))
        {
            return null;
        }

        // Why the decision too: the member may decide again until the request is used; what is used is what was read.
        var won = await db.Set<PendingConsent>()
            .Where(p => p.IdHash == hash && p.Used == null && p.Decision == row.Decision && p.GrantedScopes == row.GrantedScopes && p.Remember == row.Remember)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Used, now), cancellationToken);
        return won == 1
            ? new ConsentDecision(row.Decision == Approved, (row.GrantedScopes ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries), row.Remember)
            : null;
    }

    private static bool SameRequest(string stored, OpenIddictRequest request)
    {
        var original = QueryHelpers.ParseQuery(stored);
        string[] names =
        [
            OpenIddictConstants.Parameters.ClientId, OpenIddictConstants.Parameters.RedirectUri, OpenIddictConstants.Parameters.State,
            OpenIddictConstants.Parameters.CodeChallenge, OpenIddictConstants.Parameters.CodeChallengeMethod,
            OpenIddictConstants.Parameters.Nonce, OpenIddictConstants.Parameters.Scope, OpenIddictConstants.Parameters.ResponseType,
        ];
        return names.All(name => string.Equals(original.TryGetValue(name, out var value) ? value.ToString() : string.Empty,
            (string?)request[name] ?? string.Empty, StringComparison.Ordinal));
    }

    private static string Hash(string id) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)));
}
