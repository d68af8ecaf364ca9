using Grpc.Core;
using Pan.Oauth;
using Pan.Server.HandOff;
using Pan.Server.Network;
using Pan.Server.Pages.SignIn;
using Pan.Server.Transport;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Pan.Server.OAuth;

/// <summary>
/// <c>pan.oauth.App</c>: what the consent screen shows, and the token endpoint over gRPC. GetAccessToken and
/// GetRefreshToken post to /connect/token in-process (<see cref="OAuthPipeline"/>), so client authentication, code
/// and refresh-token redemption, PKCE and reuse detection are OpenIddict's, exactly as over HTTP.
/// </summary>
[BindServiceMethod(typeof(GuardedBinding<App.AppBase>), GuardedBinding.Method)]
public sealed class AppEndpoint(OAuthPipeline pipeline, OAuthDetails details) : App.AppBase
{
    public override async Task<GetDetailResponse> GetDetail(GetDetailRequest request, ServerCallContext context)
    {
        SignedInMember? member = null;
        if (AppCredentials.Bearer(context) is { Length: > 0 } token)
        {
            member = await OAuthGrpc.CallerAsync(token, context);
        }

        await details.CheckAsync(request, context.CancellationToken);
        return await details.BuildAsync(request.ClientId, request.Scope, member, context.GetHttpContext(), context.CancellationToken);
    }

    public override async Task<GetAccessTokenResponse> GetAccessToken(GetAccessTokenRequest request, ServerCallContext context)
    {
        var json = OAuthGrpc.TokenOrThrow(await pipeline.TokenAsync(OAuthGrpc.FormFields(
        [
            new(Parameters.GrantType, string.IsNullOrEmpty(request.GrantType) ? GrantTypes.AuthorizationCode : request.GrantType),
            new(Parameters.Code, request.Code),
            new(Parameters.RedirectUri, request.RedirectUri),
            new(Parameters.ClientId, request.ClientId),
            new(Parameters.ClientSecret, request.ClientSecret),
            new(Parameters.CodeVerifier, request.CodeVerifier),
        ]), ClientAddress.Of(context.GetHttpContext()), context.CancellationToken));
        return OAuthGrpc.TokenResponse<GetAccessTokenResponse>(json);
    }

    public override async Task<GetRefreshTokenResponse> GetRefreshToken(GetRefreshTokenRequest request, ServerCallContext context)
    {
        var json = OAuthGrpc.TokenOrThrow(await pipeline.TokenAsync(OAuthGrpc.FormFields(
        [
            new(Parameters.GrantType, GrantTypes.RefreshToken),
            new(Parameters.RefreshToken, request.RefreshToken),
            new(Parameters.ClientId, request.ClientId),
            new(Parameters.ClientSecret, request.ClientSecret),
            new(Parameters.Scope, request.Scope),
        ]), ClientAddress.Of(context.GetHttpContext()), context.CancellationToken));
        return OAuthGrpc.TokenResponse<GetRefreshTokenResponse>(json);
    }
}
