using Grpc.Core;
using Pan.Data;
using Pan.General.Member;
using Pan.Server.Deletion;
using Pan.Server.Errors;
using Pan.Server.Tokens;
using QueryErr = Pan.General.Member.QueryMemberCredentialStatusResponse.Types.Err;
using QuestionErr = Pan.General.Member.UpdateSecurityQuestionResponse.Types.Error.Types.Code;

namespace Pan.Server.Credentials;

/// <summary>QueryMemberCredentialStatus and UpdateSecurityQuestion.</summary>
public sealed class CredentialSettings(PanDbContext db, TokenService tokens, CredentialMembers members, CredentialStore store)
{
    /// <summary>
    /// What the caller (or, with object_id, another live member under the caller's phone, when the caller's session proved
    /// the phone) has set: exactly the stored state (email_verified is true only for a set, verified email). Errors: bad
    /// pan_access_token UNAUTHENTICATED ErrFailed; malformed object_id INVALID_ARGUMENT; no such member under the phone,
    /// or another member of it named by a session that proved one member, NOT_FOUND ErrFailed.
    /// </summary>
    public async Task<QueryMemberCredentialStatusResponse> StatusAsync(QueryMemberCredentialStatusRequest request, CancellationToken cancellationToken)
    {
        var caller = await tokens.ValidateAccessTokenAsync(request.PanAccessToken, cancellationToken)
            ?? throw PanError.Of(QueryErr.Failed, StatusCode.Unauthenticated, "The pan_access_token is invalid or expired.");
        if (!CredentialMembers.TryParseObjectId(request.ObjectId, out var objectId))
        {
            throw PanError.InvalidArgument("object_id", "is not a valid object id");
        }

        // Why: a session that proved one member (password, email code, hand-off, social login, passkey) sees no other
        // member of the phone (OtherMember answers it an empty list); a sibling's object id is answered as a stranger's.
        var reachable = objectId is not { } id || caller.ProvesThePhone || id == caller.ObjectId;
        var target = (reachable ? await members.FindAsync(caller.Uid, caller.AccountId, objectId, cancellationToken) : null)
            ?? throw PanError.Of(QueryErr.Failed, StatusCode.NotFound, "No such member under this phone.");
        var status = await store.StatusAsync(target.Uid, cancellationToken);
        return new QueryMemberCredentialStatusResponse
        {
            HasPassword = status.HasPassword,
            HasEmail = status.HasEmail,
            HasSecurityQuestion = status.HasSecurityQuestion,
            EmailVerified = status.EmailVerified,
        };
    }

    /// <summary>
    /// Sets or replaces the caller's security question. <c>update_token</c> is a verify token for
    /// <c>update-credential</c> bound to the caller (VerifyPhoneCode with session_token "update-credential",
    /// VerifyMemberByPassword or VerifyEmailCode); it is consumed only when the question is valid. Errors: bad
    /// pan_access_token UNAUTHENTICATED Error.Code.Failed; missing or bad security_question INVALID_ARGUMENT naming the
    /// field; bad, used, expired or foreign update_token PERMISSION_DENIED Error.Code.Failed.
    /// </summary>
    public async Task<UpdateSecurityQuestionResponse> UpdateSecurityQuestionAsync(UpdateSecurityQuestionRequest request, CancellationToken cancellationToken)
    {
        var caller = await tokens.ValidateAccessTokenAsync(request.PanAccessToken, cancellationToken)
            ?? throw PanError.Of(QuestionErr.Failed, StatusCode.Unauthenticated, "The pan_access_token is invalid or expired.");
        var question = CredentialChanges.SetQuestion(request.SecurityQuestion)
            ?? throw PanError.InvalidArgument("security_question", "is required");
        if (SecurityQuestions.Problem(question, "security_question") is { } bad)
        {
            throw PanError.InvalidArgument(bad);
        }

        if (string.IsNullOrEmpty(request.UpdateToken))
        {
            throw PanError.Of(QuestionErr.Failed, StatusCode.PermissionDenied, "An update_token (verify token for update-credential) is required.");
        }

        var prepared = await store.PrepareAsync(null, question.Question, question.Answer, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Why first: orders the write against a deletion of the caller (LiveMembers); a caller deleted meanwhile is
        // answered as its access token now would be.
        if (!await LiveMembers.LockAsync(db, caller.Uid, cancellationToken))
        {
            throw PanError.Of(QuestionErr.Failed, StatusCode.Unauthenticated, "The pan_access_token is invalid or expired.");
        }

        if (!await tokens.ConsumeVerifyTokenAsync(request.UpdateToken, caller.Uid, VerifyPurposes.UpdateCredential, cancellationToken))
        {
            throw PanError.Of(QuestionErr.Failed, StatusCode.PermissionDenied, "The update_token is invalid, expired, used or for another operation.");
        }

        await store.SaveAsync(caller.Uid, prepared, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new UpdateSecurityQuestionResponse();
    }
}
