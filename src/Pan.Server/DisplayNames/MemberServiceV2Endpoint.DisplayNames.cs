using Grpc.Core;
using Pan.General.Member;
using Pan.Server.DisplayNames;
using Pan.Server.Errors;

// Why: MemberServiceV2 is one gRPC service; its methods live with their features as parts of one partial class.
namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    /// <summary>V1: a format problem is INVALID_ARGUMENT on display_name; a taken name is ErrDisplayName.DISPLAY_NAME_ALREADY_EXISTS.</summary>
    public override async Task<ValidateDisplayNameResponse> ValidateDisplayName(ValidateDisplayNameRequest request, ServerCallContext context)
    {
        var problem = DisplayNameRules.Check(request.DisplayName);
        if (problem != DisplayNameProblem.None)
        {
            throw PanError.InvalidArgument("display_name", Describe(problem));
        }

        if (await Resolve<DisplayNameDirectory>(context).IsTakenAsync(request.DisplayName, context.CancellationToken))
        {
            throw PanError.Of(ErrDisplayName.Types.General.DisplayNameAlreadyExists, StatusCode.AlreadyExists, "The display name is taken.");
        }

        return new ValidateDisplayNameResponse();
    }

    /// <summary>V2: ErrLength, ErrSpecialChar (INVALID_ARGUMENT) or ErrDuplicated (ALREADY_EXISTS).</summary>
    public override async Task<ValidateDisplayNameV2Response> ValidateDisplayNameV2(ValidateDisplayNameV2Request request, ServerCallContext context)
    {
        switch (DisplayNameRules.Check(request.DisplayName))
        {
            case DisplayNameProblem.Length:
                throw PanError.Of(ValidateDisplayNameV2Response.Types.Err.Length, StatusCode.InvalidArgument,
                    Describe(DisplayNameProblem.Length), new FieldViolation("display_name", Describe(DisplayNameProblem.Length)));
            case DisplayNameProblem.SpecialCharacter:
                throw PanError.Of(ValidateDisplayNameV2Response.Types.Err.SpecialChar, StatusCode.InvalidArgument,
                    Describe(DisplayNameProblem.SpecialCharacter), new FieldViolation("display_name", Describe(DisplayNameProblem.SpecialCharacter)));
        }

        if (await Resolve<DisplayNameDirectory>(context).IsTakenAsync(request.DisplayName, context.CancellationToken))
        {
            throw PanError.Of(ValidateDisplayNameV2Response.Types.Err.Duplicated, StatusCode.AlreadyExists, "The display name is taken.");
        }

        return new ValidateDisplayNameV2Response();
    }

    internal static string Describe(DisplayNameProblem problem) => problem switch
    {
        DisplayNameProblem.Length => $"must be {DisplayNameRules.MinLength} to {DisplayNameRules.MaxLength} characters",
        DisplayNameProblem.SpecialCharacter => "may contain only letters, digits, single spaces, '_', '-' and '.'",
        _ => "is valid",
    };
}
