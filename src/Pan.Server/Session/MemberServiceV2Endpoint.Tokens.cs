using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Errors;
using Pan.Server.Session;
using Pan.Server.Tokens;

// Why: MemberServiceV2 is one gRPC service; its methods live with their features as parts of one partial class.
namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    /// <summary>
    /// Exchanges the phone-level auth token for an access token of one member for one app.
    /// <list type="bullet">
    /// <item>app_id empty or unknown: INVALID_ARGUMENT naming app_id; object_id not a UUID: INVALID_ARGUMENT naming object_id.</item>
    /// <item>Auth token correctly signed but past its expire: UNAUTHENTICATED ErrAccessToken.EXPIRED; anything else wrong
    /// with it (malformed, bad signature, retired key, revoked session, deleted account): UNAUTHENTICATED ErrAccessToken.INVALID.</item>
    /// <item>object_id naming no live member under the token's phone (unknown, deleted, or another phone's member):
    /// NOT_FOUND ErrAccessToken.FAILED — one answer for all three, so the call cannot probe other phones' members.</item>
    /// <item>object_id empty and the phone's default member suspended (Pan extension): the auth token's own member, the
    /// one a phone sign-in chose in its place (it is refused, MEMBER_SUSPENDED, only when suspended too).</item>
    /// <item>object_id empty and the phone has no usable default member (none set, or it was deleted, and more than
    /// one live member): FAILED_PRECONDITION ErrAccessToken.FAILED; the client must pass object_id.</item>
    /// <item>An auth token of a sign-in that proved one member, not the phone (auth-by-password, auth-by-email-code,
    /// auth-by-login-token; see <see cref="AuthMethods.IsMemberBound"/>): object_id empty means that member, and any
    /// other member of the phone is NOT_FOUND ErrAccessToken.FAILED (switch with SwitchMember and its step-up).</item>
    /// </list>
    /// </summary>
    public override async Task<AccessTokenResponse> AccessToken(AccessTokenRequest request, ServerCallContext context)
    {
        var app = RequireApp(request.AppId);
        Guid? objectId = string.IsNullOrEmpty(request.ObjectId) ? null : ParseObjectId(request.ObjectId, "object_id");

        var tokens = Resolve<TokenService>(context);
        var check = await tokens.CheckAuthTokenAsync(request.AuthToken, context.CancellationToken);
        var auth = check.Status switch
        {
            AuthTokenStatus.Valid => check.Claims!,
            AuthTokenStatus.Expired => throw PanError.Of(ErrAccessToken.Types.General.Expired, StatusCode.Unauthenticated, "The auth token has expired; sign in again."),
            _ => throw PanError.Of(ErrAccessToken.Types.General.Invalid, StatusCode.Unauthenticated, "The auth token is not valid."),
        };

        // Why: an auth token from a sign-in that proved one member (password, email code, hand-off) opens that member
        // only. The seed's "empty object_id: the default member" then reads as the token's own member — the default of
        // its session —, since the phone's default may be a member the caller never proved; any other member answers
        // like one not under the phone.
        var bound = AuthMethods.IsMemberBound(auth.AuthMethod);
        var directory = Resolve<MemberDirectory>(context);
        var member = await directory.FindUnderAccountAsync(auth.AccountId, bound ? objectId ?? auth.ObjectId : objectId, context.CancellationToken);
        // Why: a phone sign-in whose default member is suspended opened its session for another member of the phone
        // (TokenService); the default member then reads as that session's member, as the sign-in chose, rather than
        // refusing a sign-in that succeeded. An object_id naming the suspended member is still refused.
        if (objectId is null && !bound && member is not null && member.Uid != auth.Uid
            && Suspension.MemberSuspensions.IsSuspended(member, Resolve<TimeProvider>(context).GetUtcNow()))
        {
            member = await directory.FindUnderAccountAsync(auth.AccountId, auth.ObjectId, context.CancellationToken) ?? member;
        }

        if (member is null || (bound && member.Uid != auth.Uid))
        {
            throw objectId is null && !bound
                ? PanError.Of(ErrAccessToken.Types.General.Failed, StatusCode.FailedPrecondition, "The phone has no default member; pass object_id.")
                : PanError.Of(ErrAccessToken.Types.General.Failed, StatusCode.NotFound, "No such member under this phone.");
        }

        var issued = await tokens.IssueAccessTokenAsync(auth, member, app, context.CancellationToken);
        return new AccessTokenResponse { AccessToken = issued.Token };
    }

    /// <summary>For other apps' services: whom an access token belongs to. A token that is unknown, expired, revoked or
    /// whose member was deleted: UNAUTHENTICATED ErrValidateAccessToken.TOKEN_INVALID. At most one database query (none
    /// when this node holds a current copy, see AccessTokenCache).</summary>
    public override async Task<ValidateAccessTokenResponse> ValidateAccessToken(ValidateAccessTokenRequest request, ServerCallContext context)
    {
        var found = await Resolve<TokenService>(context).LookupAccessTokenAsync(request.AccessToken, context.CancellationToken);
        if (found is null || found.MemberDeleted)
        {
            throw PanError.Of(ErrValidateAccessToken.Types.General.TokenInvalid, StatusCode.Unauthenticated, "The access token is not valid.");
        }

        return new ValidateAccessTokenResponse { Info = Resolve<ObjectMapper>(context).ToTokenInfo(found.Member) };
    }

    /// <summary>
    /// Signs out: revokes the auth session behind pan_access_token, so the auth token and every access token issued
    /// from it (for any member and app) stop working on every node at once; in the same transaction the passes of the
    /// phone's members (passport tokens, QR verify codes) end too (<see cref="Passport.MemberPasses"/> as an <see cref="ILogoutRevoker"/>).
    /// <list type="bullet">
    /// <item>token2 (optional) may be an auth token or another access token of the same phone; its session is revoked
    /// too. A token2 that is invalid, already revoked or of another phone is ignored (the sign-out still succeeds, and
    /// nobody can end another phone's session through it).</item>
    /// <item>pan_access_token unknown, expired or revoked: UNAUTHENTICATED LogoutResponse.Error.Code.Failed. Logout is
    /// therefore not idempotent: repeating it with the now revoked token answers that error, which a client may treat
    /// as "already signed out".</item>
    /// </list>
    /// </summary>
    public override async Task<LogoutResponse> Logout(LogoutRequest request, ServerCallContext context)
    {
        var tokens = Resolve<TokenService>(context);
        var found = await tokens.LookupAccessTokenAsync(request.PanAccessToken, context.CancellationToken)
            ?? throw PanError.Of(LogoutResponse.Types.Error.Types.Code.Failed, StatusCode.Unauthenticated, "The access token is not valid.");

        var sessions = new HashSet<long> { found.Info.SessionId };
        if (!string.IsNullOrEmpty(request.Token2) && await SessionOfAsync(tokens, request.Token2, context.CancellationToken) is { } second
            && second.AccountId == found.Info.AccountId)
        {
            sessions.Add(second.SessionId);
        }

        await tokens.LogoutAsync(sessions, found.Info.AccountId, context.CancellationToken);
        return new LogoutResponse();
    }

    /// <summary>The session and account behind an auth token or an access token, or null when it is neither (or dead).</summary>
    private static async Task<(long SessionId, long AccountId)?> SessionOfAsync(TokenService tokens, string token, CancellationToken cancellationToken)
    {
        if (await tokens.ValidateAuthTokenAsync(token, cancellationToken) is { } auth)
        {
            return (auth.SessionId, auth.AccountId);
        }

        return await tokens.LookupAccessTokenAsync(token, cancellationToken) is { } access ? (access.Info.SessionId, access.Info.AccountId) : null;
    }

    /// <summary>The canonical app name, or INVALID_ARGUMENT naming app_id.</summary>
    private static string RequireApp(string appId) =>
        AppIds.Normalize(appId) ?? throw PanError.InvalidArgument("app_id",
            string.IsNullOrWhiteSpace(appId) ? "is required" : "is not a known app (a name or number of pan.general.application.AppId.Value)");

    private static Guid ParseObjectId(string value, string field) =>
        value.Length <= 64 && Guid.TryParse(value, out var id) ? id : throw PanError.InvalidArgument(field, "must be a UUID");
}
