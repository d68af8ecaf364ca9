using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Pan.Server.Errors;
using Pan.Server.HandOff;
using Pan.Server.Members;
using Pan.Server.Pages.SignIn;
using Pan.Server.Tokens;

namespace Pan.Server.OAuth;

/// <summary>What the gRPC services share: the calling member, and OAuth errors as gRPC statuses.</summary>
internal static class OAuthGrpc
{
    private static readonly JsonParser TokenJson = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    /// <summary>
    /// The member behind the Pan access token in <paramref name="token"/> or, when that is empty, in the call's
    /// <c>authorization</c> metadata. Unknown, expired, revoked or of a deleted member: UNAUTHENTICATED TOKEN_INVALID.
    /// </summary>
    public static async Task<SignedInMember> CallerAsync(string? token, ServerCallContext context) => Member(await TokenInfoAsync(token, context));

    /// <summary>
    /// <see cref="CallerAsync"/> for <c>pan.oauth.ConsentProcess</c>, which decides consent for the member: the Pan access
    /// token must also be issued to one of <see cref="OAuthOptions.ConsentApps"/>, else PERMISSION_DENIED APP_NOT_ALLOWED
    /// (checked before anything is read or written for the request). Why: every app of the family holds its members'
    /// Pan access tokens; any of them could otherwise remember consent to a third-party client, or take and redeem a
    /// public client's code, for a member who never saw the consent screen.
    /// </summary>
    public static async Task<SignedInMember> ConsentCallerAsync(string? token, ServerCallContext context)
    {
        var info = await TokenInfoAsync(token, context);
        var allowed = context.GetHttpContext().RequestServices.GetRequiredService<IOptions<OAuthOptions>>().Value.ConsentApps;
        return allowed.Any(a => string.Equals(AppIds.Normalize(a), info.AppId, StringComparison.Ordinal))
            ? Member(info)
            : throw PanError.Plain(StatusCode.PermissionDenied, "APP_NOT_ALLOWED", "This app may not run the consent screen (Pan:OAuth:ConsentApps).");
    }

    private static async Task<AccessTokenInfo> TokenInfoAsync(string? token, ServerCallContext context) =>
        await context.GetHttpContext().RequestServices.GetRequiredService<TokenService>().ValidateAccessTokenAsync(
            string.IsNullOrEmpty(token) ? AppCredentials.Bearer(context) : token, context.CancellationToken) ?? throw TokenInvalid();

    private static SignedInMember Member(AccessTokenInfo info) => new(info.Uid, info.ObjectId, info.AccountId, info.SessionId, "pan-access-token");

    /// <summary>UNAUTHENTICATED TOKEN_INVALID: the Pan access token is unknown, expired or revoked, or its member is gone.</summary>
    public static RpcException TokenInvalid() => PanError.Plain(StatusCode.Unauthenticated, "TOKEN_INVALID", "The access token is not valid.");

    /// <summary>
    /// An OAuth error (RFC 6749 5.2 / 4.1.2.1) as a gRPC status whose ErrorInfo reason is the OAuth error code
    /// (<c>invalid_grant</c>, <c>invalid_request</c>, …); metadata <c>redirect_uri</c> carries the client redirect when
    /// OpenIddict made one.
    /// </summary>
    public static RpcException Error(string error, string? description, string? redirect = null)
    {
        var code = error switch
        {
            "invalid_client" or "invalid_grant" or "invalid_token" or "login_required" => StatusCode.Unauthenticated,
            "access_denied" or "unauthorized_client" => StatusCode.PermissionDenied,
            "temporarily_unavailable" => StatusCode.Unavailable,
            "server_error" => StatusCode.Internal,
            _ => StatusCode.InvalidArgument,
        };
        var exception = PanError.Plain(code, error, string.IsNullOrEmpty(description) ? error : description);
        if (redirect is not null)
        {
            exception.Trailers.Add("redirect_uri", redirect);
        }

        return exception;
    }

    /// <summary>
    /// The outcome of an in-process /connect/authorize: the redirect to the client (code or error) or a local error
    /// (unknown client, wrong redirect URI, missing or plain PKCE, …), which is thrown.
    /// </summary>
    public static string RedirectOrThrow(InProcessResponse response, bool errorsAreResults)
    {
        // Why: an in-process request carries the member its Pan token proved, so login_required means that member was
        // deleted after the token was checked (authorize found no live member); the caller gets what such a token gets.
        if (response.Error == OpenIddict.Abstractions.OpenIddictConstants.Errors.LoginRequired)
        {
            throw TokenInvalid();
        }

        if (response.Location is { } location && response.PendingRequestId is null)
        {
            var query = QueryHelpers.ParseQuery(new Uri(location, UriKind.Absolute).Query);
            if (query.TryGetValue("error", out var error) && !errorsAreResults)
            {
                throw Error(error.ToString(), query.TryGetValue("error_description", out var d) ? d.ToString() : null, location);
            }

            return location;
        }

        throw Error(response.Error ?? "server_error", response.ErrorDescription ?? "The authorization request failed.");
    }

    /// <summary>
    /// The fields of a token request posted in-process (or of an authorization request sent in-process), checked: a value
    /// with NUL cannot travel in a form (ASP.NET Core refuses to read it) nor in the provider's query string (refused
    /// before OpenIddict, see FormBodyGuard), so it is INVALID_ARGUMENT naming the field. The OAuth parameter names are
    /// the proto field names.
    /// </summary>
    public static KeyValuePair<string, string?>[] FormFields(KeyValuePair<string, string?>[] fields)
    {
        foreach (var (name, value) in fields)
        {
            if (value?.Contains('\0', StringComparison.Ordinal) == true)
            {
                throw PanError.InvalidArgument(name, "must not contain NUL");
            }
        }

        return fields;
    }

    /// <summary>The JSON of a token endpoint answer, or its OAuth error thrown.</summary>
    public static JsonElement TokenOrThrow(InProcessResponse response)
    {
        using var document = JsonDocument.Parse(string.IsNullOrEmpty(response.Body) ? "{}" : response.Body);
        var json = document.RootElement.Clone();
        if (response.Status == StatusCodes.Status200OK && json.TryGetProperty("access_token", out _))
        {
            return json;
        }

        throw Error(
            json.TryGetProperty("error", out var error) ? error.GetString() ?? "server_error" : response.Error ?? "server_error",
            json.TryGetProperty("error_description", out var description) ? description.GetString() : response.ErrorDescription);
    }

    /// <summary>
    /// A token endpoint answer as one of the gRPC token messages, whose fields carry the RFC 6749 names
    /// (access_token, token_type, expires_in, …); fields the message does not have are left out.
    /// </summary>
    public static T TokenResponse<T>(JsonElement json)
        where T : IMessage<T>, new() => TokenJson.Parse<T>(json.GetRawText());
}
