using Grpc.Core;
using Pan.General.Member;
using Pan.Server.PhaseSessions;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    public override Task<UnlockSessionTokenResponse> UnlockSessionToken(UnlockSessionTokenRequest request, ServerCallContext context) =>
        Resolve<UnlockSession>(context).HandleAsync(request, context.GetHttpContext(), context.CancellationToken);
}
