using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Recovery;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    public override Task<AuthResetVerifyEmailResponse> AuthResetVerifyEmail(AuthResetVerifyEmailRequest request, ServerCallContext context) =>
        Resolve<EmailRecovery>(context).SendAsync(request, context.GetHttpContext(), context.CancellationToken);

    public override Task<AuthResetVerifyEmailCodeResponse> AuthResetVerifyEmailCode(AuthResetVerifyEmailCodeRequest request, ServerCallContext context) =>
        Resolve<EmailRecovery>(context).VerifyCodeAsync(request, context.CancellationToken);

    public override Task<AuthResetVerifyPhoneResponse> AuthResetVerifyPhone(AuthResetVerifyPhoneRequest request, ServerCallContext context) =>
        Resolve<PhoneRecovery>(context).SendAsync(request, context.GetHttpContext(), context.CancellationToken);

    public override Task<AuthResetVerifyPhoneCodeResponse> AuthResetVerifyPhoneCode(AuthResetVerifyPhoneCodeRequest request, ServerCallContext context) =>
        Resolve<PhoneRecovery>(context).VerifyCodeAsync(request, context.CancellationToken);

    public override Task<AuthResetUpdateResponse> AuthResetUpdate(AuthResetUpdateRequest request, ServerCallContext context) =>
        Resolve<ResetUpdate>(context).HandleAsync(request, context.CancellationToken);
}
