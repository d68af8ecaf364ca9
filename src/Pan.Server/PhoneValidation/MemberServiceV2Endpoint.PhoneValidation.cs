using Grpc.Core;
using Pan.General.Member;
using Pan.Server.PhoneValidation;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    public override async Task<ValidatePhoneResponse> ValidatePhone(ValidatePhoneRequest request, ServerCallContext context)
    {
        var step = await Resolve<PhoneValidationFlow>(context).HandleAsync(
            false, (int)request.Phase, request.AccessToken, request.AppId, request.PhaseCheckExistenceCountryCode, request.PhaseCheckExistenceValue,
            request.PhaseSessionToken, request.PhaseSessionValid, request.PhaseInputCodeValue, request.PhaseInputNameValue, request.VerifyToken,
            context.GetHttpContext(), context.CancellationToken);
        return new ValidatePhoneResponse
        {
            Phase = (ValidatePhoneRequest.Types.Phase)step.Phase,
            NextPhase = (ValidatePhoneRequest.Types.Phase)step.NextPhase,
            PhaseInputCodeResult = step.Resent ? ValidatePhoneResponse.Types.CodeResult.Resent
                : step.CodeOk ? ValidatePhoneResponse.Types.CodeResult.Ok : ValidatePhoneResponse.Types.CodeResult.Default,
            PhaseInputCodeTimeRemaining = step.TimeRemaining,
            PhaseSessionToken = step.SessionToken,
            NewAuthToken = step.NewAuthToken,
        };
    }

    public override async Task<ValidatePhoneV2Response> ValidatePhoneV2(ValidatePhoneV2Request request, ServerCallContext context)
    {
        var step = await Resolve<PhoneValidationFlow>(context).HandleAsync(
            true, (int)request.Phase, request.AccessToken, request.AppId, request.PhaseCheckExistenceCountryCode, request.PhaseCheckExistenceValue,
            request.PhaseSessionToken, request.PhaseSessionValid, request.PhaseInputCodeValue, string.Empty, request.VerifyToken,
            context.GetHttpContext(), context.CancellationToken);
        return new ValidatePhoneV2Response
        {
            Phase = (ValidatePhoneV2Request.Types.Phase)step.Phase,
            NextPhase = (ValidatePhoneV2Request.Types.Phase)step.NextPhase,
            PhaseInputCodeResult = step.Resent ? ValidatePhoneV2Response.Types.CodeResult.Resent
                : step.CodeOk ? ValidatePhoneV2Response.Types.CodeResult.Ok : ValidatePhoneV2Response.Types.CodeResult.Default,
            PhaseInputCodeTimeRemaining = step.TimeRemaining,
            PhaseSessionToken = step.SessionToken,
            NewAuthToken = step.NewAuthToken,
        };
    }
}
