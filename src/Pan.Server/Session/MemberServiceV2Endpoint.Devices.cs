using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Errors;
using Pan.Server.Session;
using Pan.Server.Tokens;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    /// <summary>
    /// Pan extension: the live sessions the caller may see, newest first (<see cref="SignedInDevices"/>). access_token
    /// empty: INVALID_ARGUMENT naming access_token; unknown, expired, ended or of a deleted member: UNAUTHENTICATED
    /// ListSessionsResponse.Error.TokenInvalid.
    /// </summary>
    public override async Task<ListSessionsResponse> ListSessions(ListSessionsRequest request, ServerCallContext context)
    {
        var caller = await SessionCallerAsync(request.AccessToken, ListSessionsResponse.Types.Error.Types.Value.TokenInvalid, context);
        var sessions = await Resolve<SignedInDevices>(context).ListAsync(caller, context.CancellationToken);
        var response = new ListSessionsResponse();
        response.Sessions.AddRange(sessions.Select(ToContract));
        return response;
    }

    /// <summary>
    /// Pan extension: ends one session ListSessions shows, as Logout ends a session (the caller's own included).
    /// access_token empty, session_id empty or not a session id's shape: INVALID_ARGUMENT naming the field; a bad token:
    /// UNAUTHENTICATED EndSessionResponse.Error.TokenInvalid; a session id that is unknown, already ended or not the
    /// caller's to see: NOT_FOUND EndSessionResponse.Error.SessionNotFound (one answer, so no other account can be
    /// probed), ending nothing; a session that proved the phone, to a member-bound caller: PERMISSION_DENIED
    /// EndSessionResponse.Error.SessionProvedThePhone (<see cref="SignedInDevices.CanEnd"/>), ending nothing.
    /// </summary>
    public override async Task<EndSessionResponse> EndSession(EndSessionRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.AccessToken))
        {
            throw PanError.InvalidArgument("access_token", "is required");
        }

        if (!SessionIds.IsWellFormed(request.SessionId))
        {
            throw PanError.InvalidArgument("session_id",
                string.IsNullOrEmpty(request.SessionId) ? "is required" : "is not a session id from ListSessions");
        }

        var caller = await SessionCallerAsync(request.AccessToken, EndSessionResponse.Types.Error.Types.Value.TokenInvalid, context);
        return await Resolve<SignedInDevices>(context).EndAsync(caller, request.SessionId, context.CancellationToken) switch
        {
            SessionEnd.Ended => new EndSessionResponse(),
            SessionEnd.ProvedThePhone => throw PanError.Of(EndSessionResponse.Types.Error.Types.Value.SessionProvedThePhone, StatusCode.PermissionDenied,
                "This sign-in proved the phone; end it from a sign-in that proved the phone."),
            _ => throw PanError.Of(EndSessionResponse.Types.Error.Types.Value.SessionNotFound, StatusCode.NotFound, "No such live session."),
        };
    }

    /// <summary>
    /// Pan extension: ends every session ListSessions shows but the caller's own; answers how many it ended. Token
    /// errors as ListSessions (EndOtherSessionsResponse.Error.TokenInvalid).
    /// </summary>
    public override async Task<EndOtherSessionsResponse> EndOtherSessions(EndOtherSessionsRequest request, ServerCallContext context)
    {
        var caller = await SessionCallerAsync(request.AccessToken, EndOtherSessionsResponse.Types.Error.Types.Value.TokenInvalid, context);
        var ended = await Resolve<SignedInDevices>(context).EndOthersAsync(caller, context.CancellationToken);
        return new EndOtherSessionsResponse { Ended = ended };
    }

    /// <summary>The live caller of the session RPCs, or INVALID_ARGUMENT (no token) / UNAUTHENTICATED <paramref name="invalid"/>.</summary>
    private static async Task<AccessTokenInfo> SessionCallerAsync<TError>(string accessToken, TError invalid, ServerCallContext context)
        where TError : struct, System.Enum
    {
        if (string.IsNullOrEmpty(accessToken))
        {
            throw PanError.InvalidArgument("access_token", "is required");
        }

        return await Resolve<TokenService>(context).ValidateAccessTokenAsync(accessToken, context.CancellationToken)
            ?? throw PanError.Of(invalid, StatusCode.Unauthenticated, "The access token is not valid.");
    }

    private static Pan.General.Member.SignedInSession ToContract(SignedInDevice device)
    {
        var session = new Pan.General.Member.SignedInSession
        {
            SessionId = device.SessionId,
            Created = Timestamp.FromDateTimeOffset(device.Created),
            Expires = Timestamp.FromDateTimeOffset(device.Expires),
            AuthMethod = device.AuthMethod,
            Uid = device.Uid,
            DisplayName = device.DisplayName ?? string.Empty,
            ClientIp = device.ClientIp ?? string.Empty,
            UserAgent = device.UserAgent ?? string.Empty,
            Current = device.Current,
            CanEnd = device.CanEnd,
        };
        session.AppIds.AddRange(device.AppIds);
        return session;
    }
}
