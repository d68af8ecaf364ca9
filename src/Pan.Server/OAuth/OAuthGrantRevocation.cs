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
/// token revoked at /connect/revoke (also while a refresh of it runs), an authorization code that lost a race with its
/// own replay, and a refresh that lost a race with its refresh token's revocation. All run inside the request's
/// database transaction (<see cref="TokenTransaction"/>).
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
    /// tokens came with which refresh token, so only the refresh token itself ends (OpenIddict) and its access tokens
    /// expire (<c>Pan:OAuth:AccessTokenMinutes</c>). Any other token presented is OpenIddict's alone (only that token's
    /// entry).
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
                || principal.GetAuthorizationId() is not { Length: > 0 } authorizationId
                || !await db.Set<OpenIddictEntityFrameworkCoreAuthorization>().AnyAsync(a => a.Id == authorizationId && a.Type == AuthorizationTypes.AdHoc, context.CancellationToken))
            {
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
    /// <see cref="RefreshTokenRevocation"/> ends the grant with the refresh's new tokens, as when the revocation comes
    /// after the refresh. A refresh that comes after the lock is refused (<see cref="RefreshTokenRedemption"/>).
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
    /// replay handling applies. After a redemption here, OpenIddict's own finds the entry already redeemed and lets it
    /// pass.
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

            // Why the entry is read again: the manager answers false for any failed write, not only for a lost race. Only
            // an entry another exchange redeemed (committed) is a replay; anything else is refused as OpenIddict would.
            if (await IsRedeemedAsync(db, tokenId, context.CancellationToken) && code.GetAuthorizationId() is { Length: > 0 } authorizationId)
            {
                await RevokeTokensAsync(db, authorizationId, context.CancellationToken);
            }

            context.Reject(OpenIddictConstants.Errors.InvalidGrant, "The specified authorization code has already been redeemed.");
        }
    }

    /// <summary>
    /// The refresh grant: Pan redeems the refresh token's entry itself, just before OpenIddict would, and refuses the
    /// grant (<c>invalid_grant</c>) when the redemption fails and the entry was not redeemed by another refresh: the
    /// token was revoked (<c>/connect/revoke</c>, "my apps", a password change) after this request read it as valid. Why:
    /// OpenIddict ignores a failed redemption of a refresh token (so that parallel refreshes within
    /// <c>Pan:OAuth:RefreshTokenReuseLeewaySeconds</c> pass) and issued new tokens from a refresh token whose revocation
    /// had already answered OK — with the grant revoked too, still an access token that an API checking it offline takes;
    /// under a shared remembered consent, a working access and refresh token.
    /// </summary>
    /// <remarks>
    /// On PostgreSQL the redemption waits for a revocation holding the entry's row and then fails on its new concurrency
    /// token; SQLite runs grant requests one at a time (<see cref="TokenTransaction"/>), so there the refresh finds the
    /// token revoked and OpenIddict refuses it itself. An entry another refresh redeemed (committed) meanwhile is left to
    /// OpenIddict as before: that is two refreshes of one token at once, not a revocation.
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

            if (!await IsRedeemedAsync(db, tokenId, context.CancellationToken))
            {
                context.Reject(OpenIddictConstants.Errors.InvalidGrant, "The specified refresh token is no longer valid.");
            }
        }
    }

    /// <summary>
    /// Whether the token entry <paramref name="tokenId"/> is redeemed (committed), read again after a failed redemption:
    /// the manager answers false for any failed write, and only an entry another request redeemed is a lost race.
    /// </summary>
    private static Task<bool> IsRedeemedAsync(PanDbContext db, string tokenId, CancellationToken cancellationToken) =>
        db.Set<OpenIddictEntityFrameworkCoreToken>().AsNoTracking()
            .AnyAsync(t => t.Id == tokenId && t.Status == Statuses.Redeemed, cancellationToken);

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
