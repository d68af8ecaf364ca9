using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.General.Member;
using Pan.Server.BruteForce;
using Pan.Server.Deletion;
using Pan.Server.Errors;
using Pan.Server.Network;
using Pan.Server.PhaseSessions;
using Pan.Server.Phones;
using Pan.Server.Sms;
using Pan.Server.Tokens;
using SendErr = Pan.General.Member.SendPhoneVerificationResponse.Types.Err;
using VerifyErr = Pan.General.Member.VerifyPhoneCodeResponse.Types.Err;

namespace Pan.Server.Verification;

/// <summary>
/// Step-up by SMS. SendPhoneVerification texts a code to the signed-in member's phone; VerifyPhoneCode trades the
/// code for a verify token (single-use, minutes, bound to the member and the operation). The operation is named in
/// <c>session_token</c>: <c>switch-member</c> (the default when empty), <c>update-credential</c>, <c>delete</c>,
/// <c>export-data</c> or <c>add-passkey</c>;
/// both calls must name the same one. <c>target_phone_order</c> must be 0: a member has exactly one phone.
/// </summary>
public sealed class PhoneStepUp(PanDbContext db, TokenService tokens, PhaseSessionStore sessions, PhoneCodeSender sender, FailureCounter failures)
{
    private static readonly string[] Operations = [VerifyPurposes.SwitchMember, VerifyPurposes.UpdateCredential, VerifyPurposes.Delete, VerifyPurposes.ExportData, VerifyPurposes.AddPasskey];

    public async Task<SendPhoneVerificationResponse> SendAsync(SendPhoneVerificationRequest request, HttpContext http, CancellationToken cancellationToken)
    {
        var operation = Operation(request.SessionToken);
        if (request.TargetPhoneOrder != 0)
        {
            throw PanError.InvalidArgument("target_phone_order", "must be 0: a member has one phone");
        }

        var caller = await tokens.ValidateAccessTokenAsync(request.PanAccessToken, cancellationToken)
            ?? throw PanError.Of(SendErr.Failed, StatusCode.Unauthenticated, "The pan_access_token is invalid or expired.");
        var phoneE164 = await db.Accounts.Where(a => a.Id == caller.AccountId).Select(a => a.PhoneE164).FirstOrDefaultAsync(cancellationToken)
            ?? throw PanError.Of(SendErr.Failed, StatusCode.FailedPrecondition, "This member has no phone to send a code to.");
        var countryCode = await db.Accounts.Where(a => a.Id == caller.AccountId).Select(a => a.PhoneCountryCode).FirstAsync(cancellationToken);
        var phone = new PhoneNumber(phoneE164, countryCode, string.Empty);

        var purpose = PhasePurposes.Verify(operation);
        var latest = await sessions.FindLatestAsync(caller.Uid, purpose, cancellationToken);
        var session = latest is { CompletedAt: null }
            ? latest
            : (await sessions.StartAsync(purpose, phone, caller.Uid, http.ClientIpText(), cancellationToken)).Session;
        var outcome = await sender.SendAsync(session, phone, SmsPurpose.Verify, ClientAddress.Of(http), cancellationToken);
        return outcome.Failure switch
        {
            SendFailure.None => new SendPhoneVerificationResponse(),
            // Why: what this RPC answers once the member is deleted (its access token went with it).
            SendFailure.MemberGone => throw PanError.Of(SendErr.Failed, StatusCode.Unauthenticated, "The member no longer exists."),
            SendFailure.CoolingDown => throw PanError.With(SendErr.ReachSendLimit, StatusCode.ResourceExhausted,
                $"A code was just sent; a new one can be sent in {outcome.Seconds} s.", new Dictionary<string, string>(), outcome.Seconds),
            _ => throw PanError.Of(SendErr.ReachSendLimit, StatusCode.ResourceExhausted, "Too many codes were sent; try again later."),
        };
    }

    public async Task<VerifyPhoneCodeResponse> VerifyAsync(VerifyPhoneCodeRequest request, CancellationToken cancellationToken)
    {
        var operation = Operation(request.SessionToken);
        if (string.IsNullOrEmpty(request.Code))
        {
            throw PanError.Of(VerifyErr.CodeInvalid, StatusCode.InvalidArgument, "The code is required.", new FieldViolation("code", "is required"));
        }

        var caller = await tokens.ValidateAccessTokenAsync(request.PanAccessToken, cancellationToken)
            ?? throw PanError.Of(VerifyErr.Failed, StatusCode.Unauthenticated, "The pan_access_token is invalid or expired.");
        // Why only the newest flow, and never a finished one: an older flow's code died when a newer one was sent.
        var session = await sessions.FindLatestAsync(caller.Uid, PhasePurposes.Verify(operation), cancellationToken) is { CompletedAt: null } latest
            ? latest
            : throw PanError.Of(VerifyErr.CodeInvalid, StatusCode.InvalidArgument, "No code was sent for this operation; ask for one first.", new FieldViolation("code", "no code was sent"));
        // Why: one failure counter per member for passwords, codes and answers (SECURITY 10); locked answers like wrong.
        if ((await failures.StateAsync(caller.Uid, cancellationToken)).Locked)
        {
            throw CodeInvalid();
        }

        // Why one transaction that holds the member first: the access token was checked before it, and the member's
        // deletion may have committed since or (PostgreSQL) be running still; a verify token stored then outlived the
        // deletion, which had already erased the member's tokens. Held, either the deletion ends first and nothing is
        // accepted or issued (the answer for a gone member), or this commits first and the deletion erases the token.
        // The code is accepted, the flow finished and the failure streak cleared only with the token (SECURITY 21);
        // a wrong code's counted try commits as before.
        CodeCheck check;
        IssuedToken? verify = null;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            if (!await LiveMembers.HoldAsync(db, caller.Uid, cancellationToken))
            {
                throw PanError.Of(VerifyErr.Failed, StatusCode.Unauthenticated, "The member no longer exists.");
            }

            check = await sessions.VerifyCodeAsync(session, request.Code, cancellationToken, complete: true);
            if (check == CodeCheck.Accepted)
            {
                // Why a step-up token: a suspension that committed since the access token was checked refuses it; nothing
                // of this transaction is kept (the code stays unspent, the streak as it was).
                await failures.ResetAsync(caller.Uid, cancellationToken);
                verify = await tokens.IssueStepUpTokenAsync(caller.Uid, operation, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        if (verify is null)
        {
            if (check.IsGuess())
            {
                await failures.RecordFailureAsync(caller.Uid, cancellationToken);
            }

            throw CodeInvalid();
        }

        return new VerifyPhoneCodeResponse { VerifyToken = verify.Token };
    }

    private static RpcException CodeInvalid() =>
        PanError.Of(VerifyErr.CodeInvalid, StatusCode.InvalidArgument, "The code is wrong, expired or already used.", new FieldViolation("code", "is wrong, expired or already used"));

    private static string Operation(string sessionToken)
    {
        var operation = string.IsNullOrEmpty(sessionToken) ? VerifyPurposes.SwitchMember : sessionToken;
        return Operations.Contains(operation)
            ? operation
            : throw PanError.InvalidArgument("session_token", $"must name the operation: {string.Join(", ", Operations)}");
    }
}
