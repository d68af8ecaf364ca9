using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Pan.Server.Omniauth;

/// <summary>
/// <c>microsoft_graph</c> tokens. With <c>Pan:Omniauth:Microsoft:ClientIds</c> set, a token must have been issued to one
/// of the family's apps: an ID token (verified here: RS256 by a key of Microsoft's JWKS, <c>aud</c> in ClientIds,
/// issuer <c>https://login.microsoftonline.com/{tid}/v2.0</c> of the token's own <c>tid</c>, not expired) or a Graph
/// access token whose payload names one as <c>appid</c> (v1) or <c>azp</c> (v2). Without the setting, any token Graph
/// accepts is (the behaviour before the setting existed). With <c>Pan:Omniauth:Microsoft:TenantIds</c> set, the token's
/// <c>tid</c> must also be one of them.
/// </summary>
/// <remarks>
/// The user id is Graph's <c>id</c> for both kinds, so both sign in the same member: for a work or school account
/// that is the ID token's <c>oid</c>; for a personal account (tenant <see cref="ConsumerTenant"/>) the ID token's
/// <c>oid</c> is <c>00000000-0000-0000-xxxx-xxxxxxxxxxxx</c> and Graph's <c>id</c> the last 16 hex digits of it,
/// which is what is stored.
/// </remarks>
public sealed partial class MicrosoftAccounts(ProviderHttp http, IOptions<OmniauthOptions> options, TimeProvider clock) : IDisposable
{
    /// <summary>The tenant id of personal Microsoft accounts.</summary>
    public const string ConsumerTenant = "9188040d-6c67-4c5b-b112-36a304b66dad";

    private const string Provider = SocialProviders.Microsoft;

    /// <summary>Audiences of a Graph access token (Graph's app id, or its URL).</summary>
    private static readonly string[] GraphAudiences = ["00000003-0000-0000-c000-000000000000", "https://graph.microsoft.com", "https://graph.microsoft.com/"];

    private static readonly JsonWebTokenHandler Handler = new();

    private readonly JwksKeys keys = new(http, clock, Provider, () => options.Value.Microsoft.JwksUrl);

    public Task<ProviderIdentity> VerifyAsync(string token, CancellationToken cancellationToken)
    {
        var clientIds = options.Value.Microsoft.ClientIds;
        if (clientIds.Count == 0)
        {
            return GraphMeAsync(token, cancellationToken);
        }

        var jwt = Read(token);
        return jwt is not null && !GraphAudiences.Intersect(jwt.Audiences, StringComparer.OrdinalIgnoreCase).Any()
            ? IdTokenAsync(token, clientIds, cancellationToken)
            : GraphAccessTokenAsync(token, jwt, clientIds, cancellationToken);
    }

    public void Dispose() => keys.Dispose();

    /// <summary>
    /// A Graph access token of one of our apps: Graph must accept it, and then its payload must name one of
    /// <paramref name="clientIds"/>. Why the payload can be believed unverified: Graph has just accepted this exact token,
    /// so Microsoft issued it as it reads (Pan cannot check the signature itself: Graph tokens are signed for Graph).
    /// </summary>
    private async Task<ProviderIdentity> GraphAccessTokenAsync(string token, JsonWebToken? jwt, List<string> clientIds, CancellationToken cancellationToken)
    {
        var identity = await GraphMeAsync(token, cancellationToken);
        if (jwt is null)
        {
            throw new ProviderRejectedException(
                "The Microsoft access token is opaque (a personal account's), so its app cannot be checked; the client must send the ID token instead.");
        }

        var app = Payload(jwt, "appid") ?? Payload(jwt, "azp");
        if (app is null || !clientIds.Contains(app, StringComparer.OrdinalIgnoreCase))
        {
            throw new ProviderRejectedException("The Microsoft access token was issued to another app.");
        }

        if (Payload(jwt, "oid") is { } oid && !string.Equals(oid, identity.UserId, StringComparison.OrdinalIgnoreCase))
        {
            throw new ProviderRejectedException("The Microsoft access token names another user than Graph.");
        }

        AllowedTenant(Payload(jwt, "tid"));
        return identity;
    }

    private async Task<ProviderIdentity> IdTokenAsync(string token, List<string> clientIds, CancellationToken cancellationToken)
    {
        var claims = await IdTokens.VerifyAsync(token, "Microsoft ID token", keys, clientIds, TenantIssuer, clock, cancellationToken);
        if (claims.TryGetPayloadValue<object>("scp", out _) || claims.TryGetPayloadValue<object>("roles", out _))
        {
            // Why: an access token for one of our own APIs verifies like an ID token (same keys, issuer and audience) but
            // may have been obtained by another client; only ID tokens, which never carry scp or roles, are taken here.
            throw new ProviderRejectedException("The Microsoft token is an access token for an API, not an ID token.");
        }

        AllowedTenant(IdTokens.Claim(claims, "tid"));
        var oid = IdTokens.Claim(claims, "oid");
        if (oid is null || !Guid.TryParseExact(oid, "D", out _))
        {
            throw new ProviderRejectedException("The Microsoft ID token has no oid (the profile scope is needed).");
        }

        var id = IdTokens.Claim(claims, "tid") == ConsumerTenant && PersonalOid().Match(oid) is { Success: true } personal
            ? (personal.Groups[1].Value + personal.Groups[2].Value).ToLowerInvariant()
            : oid.ToLowerInvariant();
        // Why not verified: like Graph's mail, Microsoft does not vouch that the address is the user's.
        return new ProviderIdentity(Provider, id, IdTokens.Claim(claims, "email"), false, IdTokens.Claim(claims, "name"));
    }

    /// <summary>Refuses a token of a tenant outside <c>Pan:Omniauth:Microsoft:TenantIds</c> (when that is set).</summary>
    private void AllowedTenant(string? tenant)
    {
        var allowed = options.Value.Microsoft.TenantIds;
        if (allowed.Count > 0 && (tenant is null || !allowed.Contains(tenant, StringComparer.OrdinalIgnoreCase)))
        {
            throw new ProviderRejectedException("The Microsoft account belongs to a tenant that may not sign in.");
        }
    }

    /// <summary>Graph <c>/v1.0/me</c>: id, displayName, mail (not verified by Microsoft, so not trusted as verified).</summary>
    private async Task<ProviderIdentity> GraphMeAsync(string token, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, ProviderHttp.Join(options.Value.Microsoft.GraphBaseUrl, "v1.0/me"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var me = await http.GetJsonAsync(Provider, request, cancellationToken);
        return new ProviderIdentity(Provider, ProviderHttp.UserId(me, "id"), ProviderHttp.Text(me, "mail"), false, ProviderHttp.Text(me, "displayName"));
    }

    /// <summary><c>https://login.microsoftonline.com/{tid}/v2.0</c> where tid is the token's own <c>tid</c> claim.</summary>
    private static string TenantIssuer(string issuer, SecurityToken token, TokenValidationParameters parameters)
    {
        var tid = token is JsonWebToken jwt ? Payload(jwt, "tid") : null;
        return tid is not null && Guid.TryParseExact(tid, "D", out _) && issuer == $"https://login.microsoftonline.com/{tid}/v2.0"
            ? issuer
            : throw new SecurityTokenInvalidIssuerException("The issuer is not the token's tenant.");
    }

    /// <summary>The token as a JWT (unverified), or null when it is opaque.</summary>
    private static JsonWebToken? Read(string token)
    {
        if (!Handler.CanReadToken(token))
        {
            return null;
        }

        try
        {
            return Handler.ReadJsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static string? Payload(JsonWebToken jwt, string name) => IdTokens.Claim(jwt, name);

    [GeneratedRegex("^00000000-0000-0000-([0-9a-fA-F]{4})-([0-9a-fA-F]{12})$")]
    private static partial Regex PersonalOid();
}
