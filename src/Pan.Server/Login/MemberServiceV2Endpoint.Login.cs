using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Login;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    public override Task<LoginResponse> Login(LoginRequest request, ServerCallContext context) =>
        Resolve<LoginFlow>(context).HandleAsync(request, context.GetHttpContext(), context.CancellationToken);
}
