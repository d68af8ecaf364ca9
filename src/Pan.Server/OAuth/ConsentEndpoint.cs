using Grpc.Core;
using Pan.Oauth;
using Pan.Server.Errors;
using Pan.Server.Network;
using Pan.Server.Transport;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Pan.Server.OAuth;

/// <summary>
/// <c>pan.oauth.ConsentProcess</c>: the consent flow for the apps that run the consent screen (<see
/// cref="OAuthOptions.ConsentApps"/>; a Pan access token of any other app is PERMISSION_DENIED). Do runs the authorization
/// request through /connect/authorize in-process for the member of the Pan access token, so every OpenIddict rule
/// applies as over HTTP; Approve / Reject decide the pending request and run /connect/authorize again to get the
/// client redirect (code and state, or error=access_denied).
/// </summary>
[BindServiceMethod(typeof(GuardedBinding<ConsentProcess.ConsentProcessBase>), GuardedBinding.Method)]
public sealed class ConsentEndpoint(OAuthPipeline pipeline, ConsentRequests consents, OAuthDetails details, OAuthClients clients) : ConsentProcess.ConsentProcessBase
{
    public override async Task<DoResponse> Do(DoRequest request, ServerCallContext context)
    {
        var member = await OAuthGrpc.ConsentCallerAsync(request.PanAccessToken, context);
        var http = context.GetHttpContext();
        var response = await pipeline.AuthorizeAsync(OAuthGrpc.FormFields(
        [
            new(Parameters.ClientId, request.ClientId),
            new(Parameters.RedirectUri, request.RedirectUri),
            new(Parameters.ResponseType, request.ResponseType),
            new(Parameters.Scope, request.Scope),
            new(Parameters.State, request.State),
            new(Parameters.Nonce, request.Nonce),
            new(Parameters.CodeChallenge, request.CodeChallenge),
            new(Parameters.CodeChallengeMethod, request.CodeChallengeMethod),
        ]), member, ClientAddress.Of(http), context.CancellationToken);

        // Why first: a refused request (unknown client, wrong redirect URI, missing or plain PKCE, bad scope) throws here.
        var redirect = response.PendingRequestId is null ? OAuthGrpc.RedirectOrThrow(response, errorsAreResults: false) : string.Empty;
        var result = new DoResponse
        {
            RequestId = response.PendingRequestId ?? string.Empty,
            ConsentRequired = response.PendingRequestId is not null,
            RedirectUri = redirect,
            Detail = await details.BuildAsync(request.ClientId, request.Scope, member, http, context.CancellationToken),
            // Why: as the consent page, which offers "remember" only for a client whose identity is assured.
            RememberOffered = response.PendingRequestId is not null
                && (await clients.FindAsync(request.ClientId, context.CancellationToken))?.IdentityAssured == true,
        };
        result.RequestedScopes.AddRange(request.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        return result;
    }

    public override async Task<ApproveResponse> Approve(ApproveRequest request, ServerCallContext context)
    {
        var member = await OAuthGrpc.ConsentCallerAsync(request.PanAccessToken, context);
        var parameters = await consents.DecideAsync(request.RequestId, member.Uid, approve: true, request.GrantedScopes, request.Remember, context.CancellationToken)
            ?? throw Unknown();
        return new ApproveResponse { RedirectUri = await FinishAsync(parameters, request.RequestId, member, context, errorsAreResults: false) };
    }

    public override async Task<RejectResponse> Reject(RejectRequest request, ServerCallContext context)
    {
        var member = await OAuthGrpc.ConsentCallerAsync(request.PanAccessToken, context);
        var parameters = await consents.DecideAsync(request.RequestId, member.Uid, approve: false, [], remember: false, context.CancellationToken)
            ?? throw Unknown();
        return new RejectResponse { RedirectUri = await FinishAsync(parameters, request.RequestId, member, context, errorsAreResults: true) };
    }

    private async Task<string> FinishAsync(string parameters, string requestId, Pages.SignIn.SignedInMember member, ServerCallContext context, bool errorsAreResults)
    {
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(parameters)
            .Select(p => new KeyValuePair<string, string?>(p.Key, p.Value.ToString()))
            .Append(new(OAuthPaths.ConsentParameter, requestId));
        var response = await pipeline.AuthorizeAsync(query, member, ClientAddress.Of(context.GetHttpContext()), context.CancellationToken);
        return OAuthGrpc.RedirectOrThrow(response, errorsAreResults);
    }

    private static RpcException Unknown() =>
        PanError.Plain(StatusCode.NotFound, "REQUEST_INVALID", "The consent request is unknown, expired, already used or of another member.");
}
