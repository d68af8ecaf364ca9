using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Registration;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    public override Task<RegisterResponse> Register(RegisterRequest request, ServerCallContext context) =>
        Resolve<RegisterFlow>(context).HandleAsync(request, context.GetHttpContext(), context.CancellationToken);
}
