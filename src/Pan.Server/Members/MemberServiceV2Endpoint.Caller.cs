using Grpc.Core;
using Pan.Server.Errors;
using Pan.Server.Tokens;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    /// <summary>
    /// The live member behind an access token, for the methods whose seed has no error enum (address books, avatar,
    /// passport, AvPlus): unknown, expired, revoked or of a deleted member answers UNAUTHENTICATED (reason TOKEN_INVALID).
    /// </summary>
    private static async Task<AccessTokenInfo> CallerAsync(string accessToken, ServerCallContext context) =>
        await Resolve<TokenService>(context).ValidateAccessTokenAsync(accessToken, context.CancellationToken)
            ?? throw TokenInvalid();

    private static RpcException TokenInvalid() =>
        PanError.Plain(StatusCode.Unauthenticated, "TOKEN_INVALID", "The access token is not valid.");
}
