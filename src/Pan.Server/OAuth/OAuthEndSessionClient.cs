using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Pan.Server.OAuth;

/// <summary>
/// Refuses an end-session request with a <c>post_logout_redirect_uri</c> but neither <c>client_id</c> nor
/// <c>id_token_hint</c> (<c>invalid_request</c>, nothing signed out, no redirect). Why: then nothing names the client,
/// and the URI was accepted when registered for any client, so one app's logout link could send the member to another
/// app's page; OIDC RP-Initiated Logout 1.0 (2) asks for the client's identity with a post-logout redirect.
/// </summary>
public sealed class OAuthEndSessionClient : IOpenIddictServerHandler<ValidateEndSessionRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateEndSessionRequestContext>()
            .UseSingletonHandler<OAuthEndSessionClient>()
            .SetOrder(int.MinValue + 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateEndSessionRequestContext context)
    {
        if (!string.IsNullOrEmpty(context.Request.PostLogoutRedirectUri)
            && string.IsNullOrEmpty(context.Request.ClientId) && string.IsNullOrEmpty(context.Request.IdTokenHint))
        {
            context.Reject(OpenIddictConstants.Errors.InvalidRequest, "A post_logout_redirect_uri needs the client_id or an id_token_hint.");
        }

        return default;
    }
}
