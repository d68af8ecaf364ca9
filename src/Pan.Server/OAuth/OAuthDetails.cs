using Grpc.Core;
using Pan.Atom.Member;
using Pan.Oauth;
using Pan.Server.Members;
using Pan.Server.Pages;
using Pan.Server.Pages.SignIn;

namespace Pan.Server.OAuth;

/// <summary>What the consent screen shows about a client and the member (GetDetail, DoResponse.detail).</summary>
public sealed class OAuthDetails(OAuthClients clients, OAuthMembers members, HashUids hashUids)
{
    /// <summary>
    /// The client's name, logo, links and summary, the requested scopes described in the caller's language
    /// (Accept-Language: en or zh-TW), and the member. An unknown client is INVALID_ARGUMENT invalid_client.
    /// </summary>
    public async Task<GetDetailResponse> BuildAsync(string clientId, string scope, SignedInMember? member, HttpContext http, CancellationToken cancellationToken)
    {
        var client = await clients.FindAsync(clientId, cancellationToken)
            ?? throw OAuthGrpc.Error("invalid_client", "The client_id is not a registered client.");
        var response = new GetDetailResponse
        {
            AppDisplayName = client.Name,
            AppLogoUrl = client.LogoUrl ?? string.Empty,
            AppPrivacyPolicyUrl = client.PrivacyUrl ?? string.Empty,
            AppTermsOfServiceUrl = client.TermsUrl ?? string.Empty,
            AppSummary = client.Summary ?? string.Empty,
        };
        response.PermissionAll.AddRange(OAuthScopes.Describe(scope.Split(' ', StringSplitOptions.RemoveEmptyEntries), PageLanguage.Of(http.Request)));
        if (member is not null && await members.FindAsync(member.Uid, cancellationToken) is { } found)
        {
            response.User = new Identity
            {
                Uid = found.Uid,
                ObjectId = found.ObjectId.ToString("D"),
                Huid = hashUids.Encode(found.Uid),
                Email = found.Email ?? string.Empty,
                Username = found.Username ?? string.Empty,
            };
        }

        return response;
    }

    /// <summary>Checks what GetDetail is asked about: a registered client, one of its redirect URIs exactly, allowed scopes.</summary>
    public async Task CheckAsync(GetDetailRequest request, CancellationToken cancellationToken)
    {
        var client = await clients.FindAsync(request.ClientId, cancellationToken)
            ?? throw OAuthGrpc.Error("invalid_client", "The client_id is not a registered client.");
        if (!client.RedirectUris.Contains(request.RedirectUri, StringComparer.Ordinal))
        {
            throw OAuthGrpc.Error("invalid_request", "The redirect_uri is not registered for this client.");
        }

        if (request.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(s => !client.Scopes.Contains(s)) is { } refused)
        {
            throw OAuthGrpc.Error("invalid_scope", $"The client is not allowed to ask for the scope '{refused}'.");
        }
    }
}
