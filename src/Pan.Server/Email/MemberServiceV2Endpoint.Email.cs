using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Email;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    public override Task<SetMemberEmailResponse> SetMemberEmail(SetMemberEmailRequest request, ServerCallContext context) =>
        Resolve<MemberEmailUpdate>(context).HandleAsync(request, context.CancellationToken);

    public override Task<SendEmailVerificationResponse> SendEmailVerification(SendEmailVerificationRequest request, ServerCallContext context) =>
        Resolve<EmailVerification>(context).SendAsync(request, context.GetHttpContext(), context.CancellationToken);

    public override Task<VerifyEmailCodeResponse> VerifyEmailCode(VerifyEmailCodeRequest request, ServerCallContext context) =>
        Resolve<EmailVerification>(context).VerifyCodeAsync(request, context.CancellationToken);
}
