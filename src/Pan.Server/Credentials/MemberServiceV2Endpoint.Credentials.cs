using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Credentials;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    public override Task<SetMemberPasswordResponse> SetMemberPassword(SetMemberPasswordRequest request, ServerCallContext context) =>
        Resolve<CredentialChanges>(context).SetMemberPasswordAsync(request, context.CancellationToken);

    public override Task<UpdateCredentialResponse> UpdateCredential(UpdateCredentialRequest request, ServerCallContext context) =>
        Resolve<CredentialChanges>(context).UpdateCredentialAsync(request, context.CancellationToken);

    public override Task<VerifyMemberByPasswordResponse> VerifyMemberByPassword(VerifyMemberByPasswordRequest request, ServerCallContext context) =>
        Resolve<PasswordVerification>(context).VerifyAsync(request, context.CancellationToken);

    public override Task<QueryMemberCredentialStatusResponse> QueryMemberCredentialStatus(QueryMemberCredentialStatusRequest request, ServerCallContext context) =>
        Resolve<CredentialSettings>(context).StatusAsync(request, context.CancellationToken);

    public override Task<UpdateSecurityQuestionResponse> UpdateSecurityQuestion(UpdateSecurityQuestionRequest request, ServerCallContext context) =>
        Resolve<CredentialSettings>(context).UpdateSecurityQuestionAsync(request, context.CancellationToken);
}
