using OpenIddict.Server;
using Microsoft.Extensions.Primitives;
using OpenIddict.Abstractions;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Pan.Server.OAuth;

/// <summary>
/// Refuses an authorization request that gives a parameter more than once (<c>invalid_request</c>, answered on Pan's
/// own page, as every error found before the redirect URI is validated). Why: RFC 6749 3.1 says a parameter MUST NOT
/// be included more than once, and OpenIddict reads a repeated one as absent, so such a request was served as if the
/// state, nonce, max_age, prompt or scope had not been given: the code went back without the state the app checks, or
/// without the fresh sign-in its max_age or prompt=login asked for.
/// </summary>
public sealed class OAuthRepeatedParameters : IOpenIddictServerHandler<ValidateAuthorizationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
            .UseSingletonHandler<OAuthRepeatedParameters>()
            .SetOrder(OpenIddictServerHandlers.Authentication.ValidateClientIdParameter.Descriptor.Order - 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ValidateAuthorizationRequestContext context)
    {
        foreach (var (name, value) in context.Request.GetParameters())
        {
            if (((StringValues?)value) is { Count: > 1 })
            {
                context.Reject(OpenIddictConstants.Errors.InvalidRequest, $"The '{name}' parameter is given more than once.");
                return default;
            }
        }

        return default;
    }
}
