using Microsoft.AspNetCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Pan.Server.OAuth;

/// <summary>
/// Refuses a userinfo request that carries its access token in the query string (<c>invalid_request</c>, HTTP 400); the
/// <c>Authorization: Bearer</c> header and a form body (RFC 6750 2.1, 2.2) are answered. Why: a token in the URL lands in
/// browser history, in proxies' and servers' access logs and in Referer headers (RFC 6750 2.3, RFC 9700 4.3.2), and
/// userinfo answered such a request with the member's email and phone.
/// </summary>
public sealed class OAuthQueryTokens : IOpenIddictServerHandler<ValidateUserInfoRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateUserInfoRequestContext>()
            .UseSingletonHandler<OAuthQueryTokens>()
            .SetOrder(OpenIddictServerHandlers.UserInfo.ValidateAccessTokenParameter.Descriptor.Order - 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateUserInfoRequestContext context)
    {
        if (context.Transaction.GetHttpRequest()?.Query.ContainsKey(OpenIddictConstants.Parameters.AccessToken) == true)
        {
            context.Reject(OpenIddictConstants.Errors.InvalidRequest, "The access token must be sent in the Authorization header, not in the URL.");
        }

        return default;
    }
}
