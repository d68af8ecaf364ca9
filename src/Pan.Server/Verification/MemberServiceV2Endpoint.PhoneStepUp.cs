using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Verification;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    public override Task<SendPhoneVerificationResponse> SendPhoneVerification(SendPhoneVerificationRequest request, ServerCallContext context) =>
        Resolve<PhoneStepUp>(context).SendAsync(request, context.GetHttpContext(), context.CancellationToken);

    public override Task<VerifyPhoneCodeResponse> VerifyPhoneCode(VerifyPhoneCodeRequest request, ServerCallContext context) =>
        Resolve<PhoneStepUp>(context).VerifyAsync(request, context.CancellationToken);
}
