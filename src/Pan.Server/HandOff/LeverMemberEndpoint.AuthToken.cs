using Grpc.Core;
using Pan.Lever.Member;
using Pan.Server.Errors;
using Pan.Server.HandOff;

namespace Pan.Server.Lever;

public sealed partial class LeverMemberEndpoint
{
    /// <summary>
    /// The last step of the cross-app hand-off: the receiving app's back end exchanges the member's uid and the login
    /// token for the member's auth token (auth_method <c>auth-by-login-token</c>). The token is consumed exactly once.
    /// <list type="bullet">
    /// <item>No valid <c>x-pan-internal-key</c>: UNAUTHENTICATED.</item>
    /// <item>uid not positive: INVALID_ARGUMENT naming uid; login_token empty: INVALID_ARGUMENT naming login_token.</item>
    /// <item>Login token unknown, expired, already used, made for another uid, or dead with its session or member:
    /// UNAUTHENTICATED ErrAuthToken.LOGIN_TOKEN_INVALID.</item>
    /// </list>
    /// </summary>
    public override async Task<AuthTokenResponse> AuthToken(AuthTokenRequest request, ServerCallContext context)
    {
        var services = context.GetHttpContext().RequestServices;
        services.GetRequiredService<InternalCallers>().Require(context);
        var violations = new List<FieldViolation>();
        if (request.Uid <= 0)
        {
            violations.Add(new FieldViolation("uid", "must be a positive member uid"));
        }

        if (string.IsNullOrEmpty(request.LoginToken))
        {
            violations.Add(new FieldViolation("login_token", "is required"));
        }

        if (violations.Count > 0)
        {
            throw PanError.InvalidArgument([.. violations]);
        }

        var issued = await services.GetRequiredService<LoginTokens>().ExchangeAsync(request.LoginToken, request.Uid, context.CancellationToken)
            ?? throw PanError.Of(ErrAuthToken.Types.General.LoginTokenInvalid, StatusCode.Unauthenticated,
                "The login token is unknown, used, expired or not for this member.");
        return new AuthTokenResponse { AuthToken = issued.Token };
    }
}
