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
/// token revoked at /connect/revoke. It runs inside the request's database transaction (<see cref="TokenTransaction"/>).
/// </summary>
public static class OAuthGrantRevocation
{
    /// <summary>
    /// /connect/revoke with a refresh token (RFC 7009 2.1): after OpenIddict revoked the token itself, every other
    /// token of its authorization is revoked too (the access tokens introspection and userinfo would still take, the
    /// code's entry), and an ad-hoc authorization (one code's grant) with them. A remembered consent (permanent
    /// authorization) stays: it is the member's decision, not the app's, and it is what every code the member's consent
    /// covers shares, so revoking one refresh token of it ends that app's tokens for the member on every device, as a
    /// replay does. Any other token presented is OpenIddict's alone (only that token's entry).
    /// </summary>
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

            await RevokeTokensAsync(db, authorizationId, context.CancellationToken);
            // Why not the manager's TryRevokeAsync: it swallows a failed write and answers false, and the revocation
            // would then commit without it (or, on PostgreSQL, roll back silently under a 200).
            await db.Set<OpenIddictEntityFrameworkCoreAuthorization>()
                .Where(a => a.Id == authorizationId && a.Type == AuthorizationTypes.AdHoc && a.Status == Statuses.Valid)
                .ExecuteUpdateAsync(u => u.SetProperty(a => a.Status, Statuses.Revoked).SetProperty(a => a.ConcurrencyToken, Guid.NewGuid().ToString()), context.CancellationToken);
        }
    }

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
