using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Transport;

namespace Pan.Server.Members;

/// <summary>
/// <c>pan.general.member.MemberServiceV2</c>. One partial class, its methods spread over the feature folders
/// (Registration/, Login/, Tokens/, …); each method is thin: read the caller, validate, call one collaborator,
/// map the result. Methods not overridden answer UNIMPLEMENTED.
/// </summary>
[BindServiceMethod(typeof(GuardedBinding<MemberServiceV2.MemberServiceV2Base>), GuardedBinding.Method)]
public sealed partial class MemberServiceV2Endpoint : MemberServiceV2.MemberServiceV2Base
{
    /// <summary>The request-scoped collaborator a method calls (services are resolved per call, not per endpoint).</summary>
    private static T Resolve<T>(ServerCallContext context)
        where T : notnull => context.GetHttpContext().RequestServices.GetRequiredService<T>();
}
