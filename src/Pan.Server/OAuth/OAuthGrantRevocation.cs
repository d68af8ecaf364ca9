using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Server;
using Pan.Data;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Pan.Server.OAuth;

/// <summary>
/// Where a grant (an authorization and every token issued under it) ends besides what OpenIddict ends itself: a refresh
/// token revoked at /connect/revoke (also while a refresh of it runs), an authorization code or refresh token that lost
/// a race with its own reuse, and a refresh that lost a race with its refresh token's revocation. Pan also redeems codes
/// and refresh tokens itself (<see cref="CodeRedemption"/>, <see cref="RefreshTokenRedemption"/>): OpenIddict's own
/// redemption handler is removed (<see cref="OAuthServiceCollectionExtensions"/>), so each grant redeems its entry once.
/// All run inside the request's database transaction (<see cref="TokenTransaction"/>).
/// </summary>
public static class OAuthGrantRevocation
{
    /// <summary>
    /// /connect/revoke with a refresh token (RFC 7009 2.1): after OpenIddict revoked the token itself, every other
    /// token of its grant is revoked too (the access tokens introspection and userinfo would still take, the code's
    /// entry), and the grant. The grant is the ad-hoc authorization of the one code the refresh token descends from
    /// (<see cref="AuthorizeEndpoint"/> attaches no code to a remembered consent): the chain of one sign-in to the app,
    /// typically one device. The member's other sign-ins to the app, and a remembered consent, stay.
    /// </summary>
    /// <remarks>
    /// A refresh token whose chain was issued under a remembered consent before each code got its own grant carries the
    /// permanent authorization, which every device's chain of that time shares; there is no record of which access
    /// tokens came with which refresh token, so the refresh token itself ends (OpenIddict) and its access tokens expire
    /// (<c>Pan:OAuth:AccessTokenMinutes</c>). When a refresh of it redeemed it while this revocation waited
    /// (<see cref="RefreshTokenRevocationLock"/>), what that refresh issued from it ends too, as recorded by
    /// <see cref="SharedGrantIssue"/>, and what later refreshes issued from those: the same as when the revocation
    /// comes first and the refresh is refused — nothing issued from the token works, and the other devices' tokens stay.
    /// Any other token presented is OpenIddict's alone (only that token's entry).
    /// </remarks>
    public sealed class RefreshTokenRevocation(PanDbContext db) : IOpenIddictServerHandler<HandleRevocationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<HandleRevocationRequestContext>()
                .UseScopedHandler<RefreshTokenRevocation>()
                .SetOrder(OpenIddictServerHandlers.Revocation.RevokeToken.Descriptor.Order + 1_000)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(HandleRevocationRequestContext context)
        {
            if (context.GenericTokenPrincipal is not { } principal
                || principal.GetTokenType() != TokenTypeIdentifiers.RefreshToken
                || principal.GetAuthorizationId() is not { Length: > 0 } authorizationId)
            {
                return;
            }

            if (!await db.Set<OpenIddictEntityFrameworkCoreAuthorization>().AnyAsync(a => a.Id == authorizationId && a.Type == AuthorizationTypes.AdHoc, context.CancellationToken))
            {
                if (principal.GetTokenId() is { Length: > 0 } tokenId)
                {
                    await SharedGrantIssue.RevokeIssuedFromAsync(db, tokenId, context.CancellationToken);
                }

                return;
            }

            await RevokeTokensAsync(db, authorizationId, context.CancellationToken);
            // Why not the manager's TryRevokeAsync: it swallows a failed write and answers false, and the revocation
            // would then commit without it (or, on PostgreSQL, roll back silently under a 200).
            await db.Set<OpenIddictEntityFrameworkCoreAuthorization>()
                .Where(a => a.Id == authorizationId && a.Type == AuthorizationTypes.AdHoc && a.Status == Statuses.Valid)
                .ExecuteUpdateAsync(u => u.SetProperty(a => a.Status, Statuses.Revoked).SetProperty(a => a.ConcurrencyToken, Guid.NewGuid().ToString()), context.CancellationToken);
        }
    }

    /// <summary>
    /// /connect/revoke with a refresh token, before OpenIddict revokes it: takes the entry's row lock and reads the entry
    /// again. Why: a refresh of the same token that redeemed it after this request read it (valid) made OpenIddict's
    /// revocation fail on the entry's new concurrency token, and it answered <c>unsupported_token_type</c> ("this token
    /// cannot be revoked") while the refresh's new tokens — of the very grant the app asked to end — stayed valid. With
    /// the lock the revocation waits for that refresh to commit and then revokes the redeemed entry, and
    /// <see cref="RefreshTokenRevocation"/> ends what it ends when it comes first, the refresh's new tokens included: the
    /// grant, or under a shared remembered consent what the refresh issued from the token. A refresh that comes after the
    /// lock is refused (<see cref="RefreshTokenRedemption"/>).
    /// </summary>
    public sealed class RefreshTokenRevocationLock(IOpenIddictTokenManager tokens, PanDbContext db) : IOpenIddictServerHandler<HandleRevocationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<HandleRevocationRequestContext>()
                .AddFilter<OpenIddictServerHandlerFilters.RequireDegradedModeDisabled>()
                .UseScopedHandler<RefreshTokenRevocationLock>()
                .SetOrder(OpenIddictServerHandlers.Revocation.RevokeToken.Descriptor.Order - 500)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(HandleRevocationRequestContext context)
        {
            if (context.GenericTokenPrincipal is not { } principal
                || principal.GetTokenType() != TokenTypeIdentifiers.RefreshToken
                || principal.GetTokenId() is not { Length: > 0 } tokenId
                || await tokens.FindByIdAsync(tokenId, context.CancellationToken) is not OpenIddictEntityFrameworkCoreToken entry)
            {
                return;
            }

            // Why an update that changes nothing: it locks the row the same way on both providers (SQLite's transaction
            // already holds the write lock).
            await db.Set<OpenIddictEntityFrameworkCoreToken>().Where(t => t.Id == tokenId)
                .ExecuteUpdateAsync(u => u.SetProperty(t => t.ConcurrencyToken, t => t.ConcurrencyToken), context.CancellationToken);
            await db.Entry(entry).ReloadAsync(context.CancellationToken);
        }
    }

    /// <summary>
    /// The code exchange: Pan redeems the code's entry itself, just before OpenIddict would (RFC 6749 4.1.2). When the
    /// redemption loses to another exchange of the same code that read the entry while it was still valid (two
    /// presentations at once), every token of the code's authorization is revoked — the winner's included — and the
    /// exchange is refused, as OpenIddict does for a code presented after its exchange. Why: OpenIddict refuses the loser
    /// without revoking anything, so a stolen code raced against the app left the tokens of whichever won alive.
    /// </summary>
    /// <remarks>
    /// On PostgreSQL the loser's redemption waits for the winner's row lock, so when it fails the winner has committed and
    /// its tokens' entries are visible to the revocation. On SQLite grant requests hold the write lock from their start
    /// (<see cref="TokenTransaction"/>), so the second presentation always finds the code redeemed and OpenIddict's own
    /// replay handling applies. This is the code's only redemption: OpenIddict's own redemption handler is removed.
    /// </remarks>
    public sealed class CodeRedemption(IOpenIddictTokenManager tokens, PanDbContext db) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
                .AddFilter<OpenIddictServerHandlerFilters.RequireDegradedModeDisabled>()
                .UseScopedHandler<CodeRedemption>()
                .SetOrder(OpenIddictServerHandlers.RedeemTokenEntry.Descriptor.Order - 500)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (context.EndpointType != OpenIddictServerEndpointType.Token || !context.Request.IsAuthorizationCodeGrantType()
                || context.Transaction.GetProperty<ProcessAuthenticationContext>(typeof(ProcessAuthenticationContext).FullName!) is not { } authentication
                || authentication.AuthorizationCodePrincipal is not { } code
                || code.GetTokenId() is not { Length: > 0 } tokenId
                || await tokens.FindByIdAsync(tokenId, context.CancellationToken) is not { } entry)
            {
                return;
            }

            if (await tokens.TryRedeemAsync(entry, context.CancellationToken))
            {
                return;
            }

            await RefuseUnwrittenRedemptionAsync(db, tokenId, context.CancellationToken);

            // Why the entry is read again: the manager answers false for any failed write, not only for a lost race. Only
            // an entry another exchange redeemed (committed) is a replay; anything else is refused as OpenIddict would.
            if (await RedemptionOfAsync(db, tokenId, context.CancellationToken) is not null && code.GetAuthorizationId() is { Length: > 0 } authorizationId)
            {
                await RevokeTokensAsync(db, authorizationId, context.CancellationToken);
            }

            context.Reject(OpenIddictConstants.Errors.InvalidGrant, "The specified authorization code has already been redeemed.");
        }
    }

    /// <summary>
    /// The refresh grant: Pan redeems the refresh token's entry itself, at the point where OpenIddict would (its own
    /// handler is removed: this is the only redemption). When the redemption fails, the grant is refused
    /// (<c>invalid_grant</c>) either way:
    /// <list type="bullet">
    /// <item>another refresh of the same token redeemed it after this request read it as valid (two uses at once, as a
    /// stolen token raced against the app): a reuse, so the family — every valid token of the token's authorization, the
    /// winner's new tokens included — is revoked, as OpenIddict does for a token used again after its refresh (SECURITY
    /// 14). Within <c>Pan:OAuth:RefreshTokenReuseLeewaySeconds</c> of that redemption the request passes instead, as a
    /// reuse within the leeway does;</item>
    /// <item>the token was revoked (<c>/connect/revoke</c>, "my apps", a password change) after this request read it.</item>
    /// </list>
    /// Why: OpenIddict ignores a failed redemption of a refresh token (so that parallel refreshes within the leeway pass),
    /// and issued new tokens in both cases — from a token whose revocation had already answered OK, and to both of two
    /// refreshes of one token, leaving the thief's or the app's chain alive.
    /// </summary>
    /// <remarks>
    /// On PostgreSQL the redemption waits for the other refresh's or the revocation's row lock and then fails on the
    /// entry's new concurrency token, so the other has committed and its tokens are visible to the revocation. SQLite
    /// runs grant requests one at a time (<see cref="TokenTransaction"/>), so there the second use finds the token
    /// redeemed or revoked and OpenIddict refuses it itself (and revokes the family for a reuse).
    /// </remarks>
    public sealed class RefreshTokenRedemption(IOpenIddictTokenManager tokens, PanDbContext db) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
                .AddFilter<OpenIddictServerHandlerFilters.RequireDegradedModeDisabled>()
                .UseScopedHandler<RefreshTokenRedemption>()
                .SetOrder(OpenIddictServerHandlers.RedeemTokenEntry.Descriptor.Order - 400)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (context.EndpointType != OpenIddictServerEndpointType.Token || !context.Request.IsRefreshTokenGrantType()
                || context.Options.DisableRollingRefreshTokens
                || context.Transaction.GetProperty<ProcessAuthenticationContext>(typeof(ProcessAuthenticationContext).FullName!) is not { } authentication
                || authentication.RefreshTokenPrincipal is not { } refresh
                || refresh.GetTokenId() is not { Length: > 0 } tokenId
                || await tokens.FindByIdAsync(tokenId, context.CancellationToken) is not { } entry
                || await tokens.TryRedeemAsync(entry, context.CancellationToken))
            {
                return;
            }

            await RefuseUnwrittenRedemptionAsync(db, tokenId, context.CancellationToken);
            if (await RedemptionOfAsync(db, tokenId, context.CancellationToken) is not { } redemption)
            {
                context.Reject(OpenIddictConstants.Errors.InvalidGrant, "The specified refresh token is no longer valid.");
                return;
            }

            if (context.Options.RefreshTokenReuseLeeway is { } leeway
                && (redemption.At is not { } at || context.Options.TimeProvider.GetUtcNow() < new DateTimeOffset(at, TimeSpan.Zero) + leeway))
            {
                return;
            }

            if (refresh.GetAuthorizationId() is { Length: > 0 } authorizationId)
            {
                await RevokeTokensAsync(db, authorizationId, context.CancellationToken);
            }

            context.Reject(OpenIddictConstants.Errors.InvalidGrant, "The specified refresh token has already been redeemed.");
        }
    }

    /// <summary>
    /// A refresh under a shared remembered consent (a permanent authorization, the grant of chains issued before each
    /// code had its own) records on the redeemed refresh token's entry the ids of the tokens it issued from it
    /// (<c>pan_issued</c> in the entry's properties), so that a revocation of that token which waited for this refresh
    /// ends them (<see cref="RefreshTokenRevocation"/>). Why only there: revoking a refresh token of its own grant ends
    /// the whole grant, and the grant records its tokens; nothing else records which tokens a shared grant's refresh
    /// issued. Runs after the new tokens' entries are stored, in the refresh's transaction.
    /// </summary>
    public sealed class SharedGrantIssue(PanDbContext db) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        private const string Property = "pan_issued";

        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
                .AddFilter<OpenIddictServerHandlerFilters.RequireDegradedModeDisabled>()
                .UseScopedHandler<SharedGrantIssue>()
                .SetOrder(OpenIddictServerHandlers.GenerateIdentityToken.Descriptor.Order + 500)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (context.EndpointType != OpenIddictServerEndpointType.Token || !context.Request.IsRefreshTokenGrantType()
                || context.Transaction.GetProperty<ProcessAuthenticationContext>(typeof(ProcessAuthenticationContext).FullName!) is not { } authentication
                || authentication.RefreshTokenPrincipal is not { } refresh
                || refresh.GetTokenId() is not { Length: > 0 } tokenId
                || refresh.GetAuthorizationId() is not { Length: > 0 } authorizationId
                // Why FindAsync: OpenIddict loaded the authorization to validate the refresh token, so it is tracked.
                || await db.Set<OpenIddictEntityFrameworkCoreAuthorization>().FindAsync([authorizationId], context.CancellationToken) is not { } authorization
                || authorization.Type == AuthorizationTypes.AdHoc)
            {
                return;
            }

            string[] issued = [.. new[] { context.AccessTokenPrincipal, context.RefreshTokenPrincipal, context.IdentityTokenPrincipal }
                .Select(p => p?.GetTokenId()).OfType<string>().Where(id => id.Length > 0)];
            if (issued.Length == 0)
            {
                return;
            }

            var properties = await db.Set<OpenIddictEntityFrameworkCoreToken>().Where(t => t.Id == tokenId).Select(t => t.Properties).SingleOrDefaultAsync(context.CancellationToken);
            var json = (properties is { Length: > 0 } ? JsonNode.Parse(properties) as JsonObject : null) ?? [];
            json[Property] = new JsonArray([.. issued.Select(id => JsonValue.Create(id))]);
            var text = json.ToJsonString();
            await db.Set<OpenIddictEntityFrameworkCoreToken>().Where(t => t.Id == tokenId)
                .ExecuteUpdateAsync(u => u.SetProperty(t => t.Properties, text).SetProperty(t => t.ConcurrencyToken, Guid.NewGuid().ToString()), context.CancellationToken);
        }

        /// <summary>
        /// Revokes every still valid token recorded as issued from refresh token <paramref name="tokenId"/>, and what was
        /// issued from those in turn.
        /// </summary>
        internal static async Task RevokeIssuedFromAsync(PanDbContext db, string tokenId, CancellationToken cancellationToken)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal) { tokenId };
            var next = new List<string> { tokenId };
            while (next.Count > 0)
            {
                var rows = await db.Set<OpenIddictEntityFrameworkCoreToken>().AsNoTracking().Where(t => next.Contains(t.Id!) && t.Properties != null)
                    .Select(t => t.Properties!).ToListAsync(cancellationToken);
                next = [.. rows.SelectMany(Issued).Where(seen.Add)];
                if (next.Count > 0)
                {
                    await db.Set<OpenIddictEntityFrameworkCoreToken>().Where(t => next.Contains(t.Id!) && t.Status == Statuses.Valid)
                        .ExecuteUpdateAsync(u => u.SetProperty(t => t.Status, Statuses.Revoked).SetProperty(t => t.ConcurrencyToken, Guid.NewGuid().ToString()), cancellationToken);
                }
            }
        }

        private static IEnumerable<string> Issued(string properties) =>
            JsonNode.Parse(properties) is JsonObject json && json[Property] is JsonArray ids
                ? ids.Select(id => id?.GetValue<string>()).OfType<string>()
                : [];
    }

    /// <summary>
    /// The redemption of token entry <paramref name="tokenId"/> (when it was redeemed), or null when it is not redeemed
    /// (committed); read again after a failed redemption: the manager answers false for any failed write, and only an
    /// entry another request redeemed is a lost race.
    /// </summary>
    private static Task<Redemption?> RedemptionOfAsync(PanDbContext db, string tokenId, CancellationToken cancellationToken) =>
        db.Set<OpenIddictEntityFrameworkCoreToken>().AsNoTracking()
            .Where(t => t.Id == tokenId && t.Status == Statuses.Redeemed).Select(t => new Redemption(t.RedemptionDate)).FirstOrDefaultAsync(cancellationToken);

    /// <summary>
    /// Throws <see cref="Errors.DependencyUnavailableException"/> (UNAVAILABLE, HTTP 503 <c>temporarily_unavailable</c>)
    /// when a failed redemption left entry <paramref name="tokenId"/> still valid: no other request redeemed or revoked
    /// it, so the write itself failed (a database that stayed locked past the command timeout, a dropped connection).
    /// Why: answered <c>invalid_grant</c>, a client drops its refresh token (or code) and signs the member out, though
    /// the token is unspent and works once the database answers again (SECURITY 22).
    /// </summary>
    private static async Task RefuseUnwrittenRedemptionAsync(PanDbContext db, string tokenId, CancellationToken cancellationToken)
    {
        if (await db.Set<OpenIddictEntityFrameworkCoreToken>().AsNoTracking().AnyAsync(t => t.Id == tokenId && t.Status == Statuses.Valid, cancellationToken))
        {
            throw new Errors.DependencyUnavailableException("The token's redemption could not be written; it stays unspent.");
        }
    }

    /// <summary>A redeemed entry's redemption (UTC; null for an entry redeemed without a date).</summary>
    private sealed record Redemption(DateTime? At);

    /// <summary>
    /// Revokes every still valid token of <paramref name="authorizationId"/>. Why a new concurrency token (as
    /// <see cref="OAuthPasswordChangeRevoker"/>): an OpenIddict update of one of them in flight (a redemption that read
    /// the entry before) then fails instead of writing over the revocation.
    /// </summary>
    private static Task<int> RevokeTokensAsync(PanDbContext db, string authorizationId, CancellationToken cancellationToken) =>
        db.Set<OpenIddictEntityFrameworkCoreToken>()
            .Where(t => t.Authorization!.Id == authorizationId && t.Status == Statuses.Valid)
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.Status, Statuses.Revoked).SetProperty(t => t.ConcurrencyToken, Guid.NewGuid().ToString()), cancellationToken);
}
