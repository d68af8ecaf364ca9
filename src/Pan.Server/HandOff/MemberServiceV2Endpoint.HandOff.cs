using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Apps;
using Pan.Server.Errors;
using Pan.Server.HandOff;
using Pan.Server.Tokens;

// Why: MemberServiceV2 is one gRPC service; its methods live with their features as parts of one partial class.
namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    /// <summary>
    /// For a registered app's back end acting for a member signed in to it: makes a single-use login token bound to
    /// the app, <c>auth_url</c> and the member, to hand the member over to another app (see README, "Cross-app hand-off").
    /// The member is the one whose Pan access token (for this same app) is in the <c>authorization</c> metadata/header.
    /// <list type="bullet">
    /// <item>app_id or app_secret empty (fields and x-pan-app-* headers): INVALID_ARGUMENT ErrMakeLoginToken.GENERAL_APPID_APPSECRET_REQUIRED.</item>
    /// <item>auth_url missing, not https, longer than its column, holding a control or white-space character, or its host
    /// not among the app's allowed hosts: INVALID_ARGUMENT naming auth_url (see <see cref="AuthHosts"/>).</item>
    /// <item>Wrong app credentials: UNAUTHENTICATED ErrMakeLoginToken.GENERAL_FAILED.</item>
    /// <item>No, or no valid, access token in <c>authorization</c> (also that of a member deleted meanwhile): UNAUTHENTICATED; an access token of another app:
    /// PERMISSION_DENIED ErrMakeLoginToken.GENERAL_FAILED.</item>
    /// </list>
    /// </summary>
    public override async Task<MakeLoginTokenResponse> MakeLoginToken(MakeLoginTokenRequest request, ServerCallContext context)
    {
        var (appId, appSecret) = AppCredentials.Read(request.AppId, request.AppSecret, context);
        RequireAppCredentials(appId, appSecret, ErrMakeLoginToken.Types.General.AppidAppsecretRequired);
        var app = await Resolve<AppRegistry>(context).AuthenticateAsync(appId, appSecret, context.CancellationToken)
            ?? throw PanError.Of(ErrMakeLoginToken.Types.General.Failed, StatusCode.Unauthenticated, "Unknown app or wrong app secret.");
        if (AuthHosts.Check(request.AuthUrl, app.AllowedAuthUrlHosts) is { } problem)
        {
            throw PanError.InvalidArgument("auth_url", problem);
        }

        var accessToken = AppCredentials.Bearer(context)
            ?? throw PanError.Plain(StatusCode.Unauthenticated, "UNAUTHENTICATED", "The member's Pan access token is required in the authorization header.");
        var member = await Resolve<TokenService>(context).ValidateAccessTokenAsync(accessToken, context.CancellationToken)
            ?? throw PanError.Plain(StatusCode.Unauthenticated, "UNAUTHENTICATED", "The access token in the authorization header is not valid.");
        if (!string.Equals(member.AppId, app.AppId, StringComparison.Ordinal))
        {
            throw PanError.Of(ErrMakeLoginToken.Types.General.Failed, StatusCode.PermissionDenied, "The access token was issued for another app.");
        }

        // Why the answer for an invalid access token: a member deleted meanwhile took its access tokens with it.
        var issued = await Resolve<LoginTokens>(context).MakeAsync(app.AppId, request.AuthUrl, member, context.CancellationToken)
            ?? throw PanError.Plain(StatusCode.Unauthenticated, "UNAUTHENTICATED", "The access token in the authorization header is not valid.");
        return new MakeLoginTokenResponse { LoginToken = issued.Token };
    }

    /// <summary>
    /// For a registered app: the auth_url a login token was made for. Does not consume the token (the back end's
    /// lever AuthToken call does, exactly once).
    /// <list type="bullet">
    /// <item>app_id or app_secret empty: INVALID_ARGUMENT ErrValidateLoginToken.GENERAL_APPID_APPSECRET_REQUIRED.</item>
    /// <item>Wrong app credentials: UNAUTHENTICATED ErrValidateLoginToken.GENERAL_FAILED.</item>
    /// <item>Login token unknown, expired, used or dead with its session, or its stored auth_url not of today's shape (never
    /// echoed): UNAUTHENTICATED ErrValidateLoginToken.GENERAL_INVALID.</item>
    /// </list>
    /// </summary>
    public override async Task<ValidateLoginTokenResponse> ValidateLoginToken(ValidateLoginTokenRequest request, ServerCallContext context)
    {
        var (appId, appSecret) = AppCredentials.Read(request.AppId, request.AppSecret, context);
        RequireAppCredentials(appId, appSecret, ErrValidateLoginToken.Types.General.AppidAppsecretRequired);
        _ = await Resolve<AppRegistry>(context).AuthenticateAsync(appId, appSecret, context.CancellationToken)
            ?? throw PanError.Of(ErrValidateLoginToken.Types.General.Failed, StatusCode.Unauthenticated, "Unknown app or wrong app secret.");
        var authUrl = await Resolve<LoginTokens>(context).PeekAsync(request.LoginToken, context.CancellationToken)
            ?? throw PanError.Of(ErrValidateLoginToken.Types.General.Invalid, StatusCode.Unauthenticated, "The login token is unknown, used or expired.");
        return new ValidateLoginTokenResponse { AuthUrl = authUrl };
    }

    private static void RequireAppCredentials<TEnum>(string appId, string appSecret, TEnum error)
        where TEnum : struct, System.Enum
    {
        var violations = new List<FieldViolation>();
        if (string.IsNullOrWhiteSpace(appId))
        {
            violations.Add(new FieldViolation("app_id", "is required"));
        }
        else if (appId.Length > AppCredentials.MaxLength)
        {
            violations.Add(new FieldViolation("app_id", $"must be at most {AppCredentials.MaxLength} characters"));
        }

        if (string.IsNullOrWhiteSpace(appSecret))
        {
            violations.Add(new FieldViolation("app_secret", "is required"));
        }
        else if (appSecret.Length > AppCredentials.MaxLength)
        {
            violations.Add(new FieldViolation("app_secret", $"must be at most {AppCredentials.MaxLength} characters"));
        }

        if (violations.Count > 0)
        {
            throw PanError.Of(error, StatusCode.InvalidArgument, string.Join("; ", violations.Select(v => $"{v.Field}: {v.Description}")), [.. violations]);
        }
    }
}
