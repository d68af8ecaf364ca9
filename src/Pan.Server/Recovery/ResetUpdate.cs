using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Errors;
using E = Pan.General.Member.AuthResetUpdateResponse.Types.Err;

namespace Pan.Server.Recovery;

/// <summary>
/// AuthResetUpdate: with a live auth_reset_token, sets the new password. The token is read first (to check the password
/// against its member), then consumed with one conditional UPDATE in the transaction that sets the password, so a refused password
/// or a failed write leaves it usable and of parallel uses exactly one succeeds. <c>security_question.answer</c> answers the member's
/// question when one is set; <c>security_question.question</c> is ignored (a reset never sets a new question).
/// </summary>
public sealed class ResetUpdate(ResetGrants grants, ResetCompletion completion)
{
    public async Task<AuthResetUpdateResponse> HandleAsync(AuthResetUpdateRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.Password))
        {
            throw PanError.Of(E.PasswordRequired, StatusCode.InvalidArgument, "The password is required.", new FieldViolation("password", "is required"));
        }

        var grant = await grants.FindAsync(request.AuthResetToken, cancellationToken) ?? throw Failed();
        var check = await completion.CheckAsync(grant.Uid, request.Password, request.ConfirmPassword, request.SecurityQuestion?.Answer, cancellationToken);
        switch (check.Refusal)
        {
            case ResetRefusal.PasswordRequired:
                throw PanError.Of(E.PasswordRequired, StatusCode.InvalidArgument, "The password is required.", new FieldViolation("password", "is required"));
            case ResetRefusal.Mismatch:
                throw PanError.Of(E.NewPasswordConfirmingFailed, StatusCode.InvalidArgument, "confirm_password differs from password.",
                    new FieldViolation("confirm_password", "differs from password"));
            case ResetRefusal.PasswordRule:
                throw PanError.Of(E.NewPasswordRule, StatusCode.InvalidArgument, check.Reason!, new FieldViolation("password", check.Reason!));
            case ResetRefusal.AnswerRequired:
                throw PanError.Of(E.SecurityQuestionAnswerRequired, StatusCode.InvalidArgument,
                    "The answer to the security question is missing or wrong.", new FieldViolation("security_question.answer", "is missing or wrong"));
        }

        if (!await completion.FinishAsync(grant.Uid, request.Password, grant.Channel,
                ct => grants.ConsumeAsync(request.AuthResetToken, grant, ct), cancellationToken))
        {
            throw Failed();
        }

        return new AuthResetUpdateResponse();
    }

    private static RpcException Failed() =>
        PanError.Of(E.Failed, StatusCode.Unauthenticated, "The auth_reset_token is unknown, expired or already used; start the reset again.");
}
