using Grpc.Core;
using Pan.Data;
using Pan.General.Member;
using Pan.Server.Captcha;
using Pan.Server.Deletion;
using Pan.Server.DisplayNames;
using Pan.Server.Errors;
using Pan.Server.Tokens;
using Err = Pan.General.Member.VerifyMemberByPasswordResponse.Types.Err;

namespace Pan.Server.Credentials;

/// <summary>
/// VerifyMemberByPassword: re-authentication by display name or email, password and (when the member has one) the
/// security answer, for a verify token. The operation the token unlocks is named in <c>session_token</c> as in
/// VerifyPhoneCode: <c>update-credential</c> (the default when empty: this RPC exists for credential changes),
/// <c>switch-member</c>, <c>delete</c> or <c>export-data</c>. The token is bound to the member whose password was proved (the one
/// display_name or email names, not necessarily the caller of a later call), and <c>switch-member</c> and <c>delete</c>
/// are stored as their password proofs (<see cref="VerifyPurposes.ByPassword"/>): a password proves one member, not the
/// phone, so such a token reaches the phone's other members only from a session that proved the phone (SwitchMember,
/// DeleteAccount; SECURITY 13).
/// </summary>
/// <remarks>
/// Unknown member, wrong password, wrong answer, a member without a password and a locked account all answer the same
/// PERMISSION_DENIED ErrAuthFailed with the same message, after about the same work (one Argon2id verification).
/// ErrSecurityQuestionRequired (INVALID_ARGUMENT naming security_question.answer) is only said after a right password.
/// When captcha is not off (Pan:Captcha:Mode always or risk), recaptcha_token must pass the Web platform's check
/// first (PERMISSION_DENIED ErrFailed otherwise): this endpoint guesses passwords for anyone who can reach it.
/// </remarks>
public sealed class PasswordVerification(
    PanDbContext db, TokenService tokens, CredentialStore store, PasswordHasher hasher, CaptchaVerifier captcha)
{
    private static readonly string[] Operations = [VerifyPurposes.UpdateCredential, VerifyPurposes.SwitchMember, VerifyPurposes.Delete, VerifyPurposes.ExportData, VerifyPurposes.AddPasskey];

    public async Task<VerifyMemberByPasswordResponse> VerifyAsync(VerifyMemberByPasswordRequest request, CancellationToken cancellationToken)
    {
        var operation = string.IsNullOrEmpty(request.SessionToken) ? VerifyPurposes.UpdateCredential : request.SessionToken;
        if (!Operations.Contains(operation))
        {
            throw PanError.InvalidArgument("session_token", $"must name the operation: {string.Join(", ", Operations)}");
        }

        var name = string.IsNullOrWhiteSpace(request.DisplayName) ? null : request.DisplayName;
        var email = string.IsNullOrWhiteSpace(request.Email) ? null : request.Email.Trim();
        if (name is null && email is null)
        {
            throw PanError.Of(Err.IdentityRequired, StatusCode.InvalidArgument, "display_name or email is required.",
                new FieldViolation("display_name", "display_name or email is required"));
        }

        if (name is { Length: > DisplayNameRules.MaxLength * 8 })
        {
            throw PanError.InvalidArgument("display_name", "is too long");
        }

        if (email is { Length: > CredentialChanges.MaxEmailLength })
        {
            throw PanError.InvalidArgument("email", "is too long");
        }

        if (string.IsNullOrEmpty(request.Password))
        {
            throw PanError.Of(Err.PasswordRequired, StatusCode.InvalidArgument, "The password is required.", new FieldViolation("password", "is required"));
        }

        if (captcha.Mode != CaptchaMode.Off && !await captcha.VerifyAsync(CaptchaPlatform.Web, request.RecaptchaToken, cancellationToken))
        {
            throw PanError.Of(Err.Failed, StatusCode.PermissionDenied, "The reCAPTCHA was not accepted.", new FieldViolation("recaptcha_token", "was not accepted"));
        }

        var stored = await store.FindSecretsAsync(name is null ? null : DisplayNameRules.Key(name), email?.ToLowerInvariant(), cancellationToken);
        var answer = CredentialChanges.SetQuestion(request.SecurityQuestion)?.Answer;
        var (result, answerRequired) = stored is not null
            ? await store.CheckPasswordAndAnswerAsync(stored, request.Password, answer, cancellationToken)
            : (await UnknownAsync(request.Password, cancellationToken), false);
        if (answerRequired)
        {
            throw PanError.Of(Err.SecurityQuestionRequired, StatusCode.InvalidArgument, "This member has a security question: answer it.",
                new FieldViolation("security_question.answer", "is required"));
        }

        if (result != SecretCheck.Ok)
        {
            // Why: one answer for unknown, wrong, not set and locked (SECURITY 10 and 15).
            throw PanError.Of(Err.AuthFailed, StatusCode.PermissionDenied, "The member or password is wrong.");
        }

        // Why the member is held first, in the token's transaction: the member was read and its password checked before
        // it (the hash is not verified in a transaction), and its deletion may have committed since or (PostgreSQL) be
        // running still; a verify token stored then outlived the deletion, which had already erased the member's tokens.
        // Held, either the deletion ends first and nothing is issued (the answer for an unknown member), or this commits
        // first and the deletion erases the token.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await LiveMembers.HoldAsync(db, stored!.Uid, cancellationToken))
        {
            throw PanError.Of(Err.AuthFailed, StatusCode.PermissionDenied, "The member or password is wrong.");
        }

        // Why after the password and the hold: only who knows the password learns of a suspension, and one in flight is
        // waited for (IssueStepUpTokenAsync).
        var verify = await tokens.IssueStepUpTokenAsync(stored.Uid, VerifyPurposes.ByPassword(operation), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new VerifyMemberByPasswordResponse { VerifyToken = verify.Token };
    }

    private async Task<SecretCheck> UnknownAsync(string password, CancellationToken cancellationToken)
    {
        await hasher.VerifyAgainstDummyAsync(password, cancellationToken);
        return SecretCheck.NotSet;
    }
}
