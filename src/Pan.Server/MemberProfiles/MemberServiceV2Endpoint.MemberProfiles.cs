using Grpc.Core;
using Pan.General.Member;
using Pan.Server.MemberProfiles;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    public override Task<NewMemberResponse> NewMember(NewMemberRequest request, ServerCallContext context) =>
        Resolve<MemberProfiles.MemberProfiles>(context).NewMemberAsync(request, context.GetHttpContext(), context.CancellationToken);

    public override Task<ValidateNewMemberResponse> ValidateNewMember(ValidateNewMemberRequest request, ServerCallContext context) =>
        Resolve<MemberProfiles.MemberProfiles>(context).ValidateNewMemberAsync(request, context.CancellationToken);

    public override Task<SwitchMemberResponse> SwitchMember(SwitchMemberRequest request, ServerCallContext context) =>
        Resolve<MemberProfiles.MemberProfiles>(context).SwitchAsync(request, context.CancellationToken);
}
