using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using Pan.Server.Pages.SignIn;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Pan.Server.OAuth;

/// <summary>
/// The passthrough parts of /connect/token, /connect/userinfo and /connect/endsession. OpenIddict has already
/// authenticated the client and validated the code (single use, unexpired, PKCE verifier, same redirect URI) or the
/// refresh token (rolling: each is single use; a redeemed one presented again revokes its authorization and every
/// token of it). Here the member is looked up again, so a deleted member gets no more tokens and fresh claims go out,
/// and a code or refresh token minted before the member's last password change or reset is refused even when its
/// entry is still valid (one stored by a grant that raced the change, see <see cref="OAuthGenerations"/>).
/// </summary>
public static class TokenEndpoint
{
    public static async Task<IResult> HandleAsync(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("The OpenID Connect request cannot be retrieved.");
        if (!request.IsAuthorizationCodeGrantType() && !request.IsRefreshTokenGrantType())
        {
            throw new InvalidOperationException("OpenIddict let an unsupported grant type through.");
        }

        var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        var members = context.RequestServices.GetRequiredService<OAuthMembers>();
        var member = await members.FindAsync(result.Principal?.GetClaim(Claims.Subject), context.RequestAborted);
        // Why only the code exchange counts as a sign-in: a refresh renews a sign-in already counted.
        var metrics = context.RequestServices.GetRequiredService<Metrics.PanMetrics>();
        var signIn = request.IsAuthorizationCodeGrantType();
        if (result.Principal is null || member is null)
        {
            CountSignIn(metrics, signIn, Metrics.SignInOutcomes.NoMember);
            return AuthorizeEndpoint.Forbid(OpenIddictConstants.Errors.InvalidGrant, "The member no longer exists.");
        }

        if (OAuthGenerations.IsStale(result.Principal, member))
        {
            CountSignIn(metrics, signIn, "grant_ended");
            return AuthorizeEndpoint.Forbid(OpenIddictConstants.Errors.InvalidGrant, "The grant ended with a password change or reset.");
        }

        var identity = new ClaimsIdentity(result.Principal.Claims, TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        members.Apply(identity, member, result.Principal.GetScopes());
        // Why: the access token's audience (aud) is its client, so the app's API, checking the JWT offline, can refuse a
        // token Pan issued to another client (RFC 9700 2.3); OpenIddict makes the resources the access token's audiences.
        // Set at every exchange and refresh, so grants made before Pan set it get it at their next refresh.
        identity.SetResources(request.ClientId ?? throw new InvalidOperationException("OpenIddict let a token request without a client through."));
        // Why once committed: OpenIddict stores the tokens after this, in the request's transaction (TokenTransaction),
        // and a failure there leaves the code or refresh token unredeemed and no token issued.
        metrics.WhenCommitted(context.RequestServices.GetRequiredService<Pan.Data.PanDbContext>(), m =>
        {
            CountSignIn(m, signIn, Metrics.SignInOutcomes.Ok);
            m.TokenIssued(signIn ? "oauth_code" : "oauth_refresh");
        });
        return Results.SignIn(new ClaimsPrincipal(identity), null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static void CountSignIn(Metrics.PanMetrics metrics, bool signIn, string outcome)
    {
        if (signIn)
        {
            metrics.SignIn(Metrics.SignInMethods.OAuth, outcome);
        }
    }

    public static async Task<IResult> UserInfoAsync(HttpContext context)
    {
        // Why: the answer is the member's personal claims (email, phone); no cache on the way may keep it, as the token
        // endpoint's answers are not kept (OIDC Core 5.3.2 leaves it to the provider; RFC 6749 5.1 for the token endpoint).
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
        var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        var members = context.RequestServices.GetRequiredService<OAuthMembers>();
        var member = await members.FindAsync(result.Principal?.GetClaim(Claims.Subject), context.RequestAborted);
        // Why the generation too: an access token stored by a grant that raced a password change has a valid entry.
        if (result.Principal is null || member is null || OAuthGenerations.IsStale(result.Principal, member))
        {
            return Results.Challenge(
                new AuthenticationProperties(new Dictionary<string, string?>
                {
                    [OpenIddictServerAspNetCoreConstants.Properties.Error] = OpenIddictConstants.Errors.InvalidToken,
                    [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The token is no longer valid.",
                }),
                [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        // Why: userinfo is OpenID Connect's, for tokens issued with openid (OIDC Core 5.3); an OAuth-only token (email,
        // profile, ...) was answered with the member's sub and claims. Now insufficient_scope (403 with WWW-Authenticate).
        if (!result.Principal.HasScope(Scopes.OpenId))
        {
            return Results.Challenge(
                new AuthenticationProperties(new Dictionary<string, string?>
                {
                    [OpenIddictServerAspNetCoreConstants.Properties.Error] = OpenIddictConstants.Errors.InsufficientScope,
                    [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The access token was not issued with the openid scope.",
                }),
                [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        return Results.Ok(members.UserInfo(member, result.Principal.GetScopes()));
    }

    /// <summary>
    /// Signs the browser out of the hosted pages — its Pan auth session is revoked and the cookie removed, as the pages'
    /// own sign-out does — and sends it to the client's registered post-logout URI. Why revoke: logout must end the
    /// session on the server (SECURITY 12); removing the cookie alone left any copy of it signed in until it expired.
    /// A signed-in member is asked first unless the id_token_hint names them (<see cref="EndSessionPage"/>).
    /// The apps' OAuth grants stay (see README, "What ends an app's access").
    /// </summary>
    public static async Task<IResult> EndSessionAsync(HttpContext context)
    {
        var member = await MemberSignIn.CurrentAsync(context);
        if (member is not null && !await EndSessionPage.IsConfirmedAsync(context, member))
        {
            return EndSessionPage.Ask(context, member);
        }

        // Why only with a member: a request without a live member cookie (a cross-site form post, which SameSite=Lax
        // keeps the cookie off) has no one to sign out, and its Set-Cookie would still clear the cookie in the browser.
        if (member is not null)
        {
            await context.RequestServices.GetRequiredService<MemberSignIn>().SignOutAsync(context, context.RequestAborted);
        }

        return Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }
}
