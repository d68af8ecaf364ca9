using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.PhaseSessions;
using Pan.General.Member;
using Pan.Server.Accounts;
using Pan.Server.Captcha;
using Pan.Server.Data;
using Pan.Server.DisplayNames;
using Pan.Server.Errors;
using Pan.Server.MemberProfiles;
using Pan.Server.Members;
using Pan.Server.Network;
using Pan.Server.PhaseSessions;
using Pan.Server.Phones;
using Pan.Server.Registration;
using Pan.Server.Sms;
using Pan.Server.Tokens;
using E = Pan.General.Member.ErrValidatePhone.Types.General;
using E2 = Pan.General.Member.ErrValidatePhoneV2.Types.General;

namespace Pan.Server.PhoneValidation;

/// <summary>One step's outcome, mapped onto ValidatePhoneResponse or ValidatePhoneV2Response (same fields and numbers).</summary>
public sealed record PhoneValidationStep(int Phase, int NextPhase, bool CodeOk, bool Resent, long TimeRemaining, string SessionToken, string NewAuthToken);

/// <summary>
/// ValidatePhone / ValidatePhoneV2: a signed-in member that has no verified phone yet (imported from a legacy store, or a
/// guest) proves a phone by SMS and is bound to it. CHECK_EXISTENCE (or a platform variant) → INPUT_CODE → (V1 only,
/// when the member's display name breaks today's rules or is taken) INPUT_NAME → done: if the phone already has an
/// account the member joins it (MAXIMUM_MEMBER when it is full), otherwise the member's own account takes the phone.
/// A member that already has a phone gets EXISTING_PHONE. The member's old sessions end and <c>new_auth_token</c> is a
/// phone-level auth token; its migration status becomes STATUS_VALID_PAN.
/// Proof: CHECK_EXISTENCE needs <c>verify_token</c>, a verify token for <c>update-credential</c> bound to the member
/// (VerifyMemberByPassword or VerifyEmailCode), spent in the transaction that starts the flow; the flow's phase session,
/// bound to the member, carries the proof to the later steps. Why: a phone bound here signs in to the member (and this
/// ends its other sessions), and the access token alone is what every app of the family holds (SECURITY 4 and 13).
/// Missing or not such a token is PERMISSION_DENIED FAILED, before the phone is looked up or texted, spending nothing.
/// </summary>
public sealed class PhoneValidationFlow(
    PanDbContext db,
    PhoneNumbers phones,
    AccountDirectory accounts,
    PhaseSessionStore sessions,
    PhoneCodeSender sender,
    DisplayNameDirectory names,
    MemberSlots slots,
    TokenService tokens,
    SigningKeyRing signingKeys,
    TimeProvider clock,
    Microsoft.Extensions.Options.IOptions<MembersOptions> members)
{
    private const int CheckExistence = 1, InputCode = 2, InputName = 3, Done = 4;

    private static readonly FlowErrors V1 = FlowErrors.From(E.SessionInvalid, E.CodeInvalid, E.CodePending, E.CodePending10, E.RecaptchaFailed);
    private static readonly FlowErrors V2 = FlowErrors.From(E2.SessionInvalid, E2.CodeInvalid, E2.CodePending, E2.CodePending10, E2.RecaptchaFailed);

    /// <summary>Runs one step; <paramref name="v2"/> selects ValidatePhoneV2 (no name step, its own error enum).</summary>
    public async Task<PhoneValidationStep> HandleAsync(
        bool v2, int phase, string accessToken, string appId, string countryCode, string value, string sessionToken,
        string sessionValid, string code, string name, string verifyToken, HttpContext http, CancellationToken cancellationToken)
    {
        var errors = v2 ? V2 : V1;
        RegisterFlow.ValidateAppId(appId);
        var caller = await tokens.ValidateAccessTokenAsync(accessToken, cancellationToken)
            ?? throw Fail(v2, E.TokenInvalid, E2.TokenInvalid, StatusCode.Unauthenticated, "The access_token is invalid or expired.");
        return phase switch
        {
            CheckExistence or >= 5 and <= 8 => await CheckAsync(v2, errors, phase, caller, countryCode, value, sessionValid, verifyToken, http, cancellationToken),
            InputCode => await CodeAsync(v2, errors, caller, sessionToken, code, http, cancellationToken),
            InputName when !v2 => await NameAsync(errors, caller, sessionToken, name, cancellationToken),
            _ => throw PanError.InvalidArgument("phase", v2 ? "must be PHASE_CHECK_EXISTENCE (or a platform variant) or PHASE_INPUT_CODE" : "must be PHASE_CHECK_EXISTENCE (or a platform variant), PHASE_INPUT_CODE or PHASE_INPUT_NAME"),
        };
    }

    private async Task<PhoneValidationStep> CheckAsync(
        bool v2, FlowErrors errors, int phase, AccessTokenInfo caller, string countryCode, string value, string sessionValid, string verifyToken,
        HttpContext http, CancellationToken cancellationToken)
    {
        var phone = phones.SmsDestinationWithCountry(countryCode, value, "phase_check_existence_country_code", "phase_check_existence_value");
        await EnsureNoPhoneAsync(v2, caller.AccountId, cancellationToken);
        // Why before the phone is looked up: without a proof the caller learns nothing of the phone and texts nothing.
        if (!await tokens.VerifyTokenIsLiveAsync(verifyToken, caller.Uid, VerifyPurposes.UpdateCredential, cancellationToken))
        {
            throw ProofInvalid(v2);
        }

        await EnsureRoomAsync(v2, phone.E164, cancellationToken);

        var purpose = v2 ? PhasePurposes.ValidatePhoneV2 : PhasePurposes.ValidatePhone;
        PhaseSession session;
        string token;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            // Why spent with the flow's start: the phase session, bound to the member, is the proof from here on; a
            // token spent by a concurrent request starts no flow.
            if (!await tokens.ConsumeVerifyTokenAsync(verifyToken, caller.Uid, VerifyPurposes.UpdateCredential, cancellationToken))
            {
                throw ProofInvalid(v2);
            }

            (session, token) = await sessions.StartAsync(purpose, phone, caller.Uid, http.ClientIpText(), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        var ip = ClientAddress.Of(http);
        await sender.RequireCaptchaIfNeededAsync(session, phone, ip, Platform(phase), sessionValid, errors, token, cancellationToken);
        var sent = await sender.SendOrThrowAsync(session, phone, SmsPurpose.ValidatePhone, ip, errors, token, cancellationToken);
        return new PhoneValidationStep(phase, InputCode, true, false, sent.Seconds, token, string.Empty);
    }

    private async Task<PhoneValidationStep> CodeAsync(bool v2, FlowErrors errors, AccessTokenInfo caller, string sessionToken, string code, HttpContext http, CancellationToken cancellationToken)
    {
        var session = await OpenAsync(v2, errors, caller, sessionToken, cancellationToken);
        var phone = new PhoneNumber(session.PhoneE164!, session.PhoneCountryCode, string.Empty);
        if (string.IsNullOrEmpty(code))
        {
            var resent = await sender.SendOrThrowAsync(session, phone, SmsPurpose.ValidatePhone, ClientAddress.Of(http), errors, sessionToken, cancellationToken);
            return new PhoneValidationStep(InputCode, InputCode, false, true, resent.Seconds, sessionToken, string.Empty);
        }

        // Why the already-accepted code passes: the code's acceptance commits on its own (a wrong code's counted try must
        // stay counted), but the finishing step may be refused (MAXIMUM_MEMBER) or fail and leave the flow unfinished;
        // the member then sends the same request again rather than starting over.
        if (!PhaseSessionStore.IsAcceptedCode(session, code))
        {
            var check = await sessions.VerifyCodeAsync(session, code, cancellationToken, phase: InputCode);
            if (check != CodeCheck.Accepted)
            {
                throw errors.CodeInvalid(check);
            }
        }
        if (!v2)
        {
            var member = await db.Members.AsNoTracking().FirstAsync(m => m.Uid == caller.Uid, cancellationToken);
            var current = member.DisplayName ?? string.Empty;
            if (DisplayNameRules.Check(current) != DisplayNameProblem.None || await names.IsTakenAsync(current, cancellationToken, member.Uid))
            {
                return new PhoneValidationStep(InputCode, InputName, true, false, 0, sessionToken, string.Empty);
            }
        }

        var auth = await FinishAsync(v2, errors, session, caller, null, cancellationToken);
        return new PhoneValidationStep(InputCode, Done, true, false, 0, sessionToken, auth);
    }

    private async Task<PhoneValidationStep> NameAsync(FlowErrors errors, AccessTokenInfo caller, string sessionToken, string name, CancellationToken cancellationToken)
    {
        var session = await OpenAsync(false, errors, caller, sessionToken, cancellationToken);
        if (session.CodeVerifiedAt is null)
        {
            throw errors.SessionInvalid();
        }

        var problem = DisplayNameRules.Check(name);
        if (problem != DisplayNameProblem.None)
        {
            var why = MemberServiceV2Endpoint.Describe(problem);
            throw PanError.Of(E.NameInvalid, StatusCode.InvalidArgument, why, new FieldViolation("phase_input_name_value", why));
        }

        if (await names.IsTakenAsync(name, cancellationToken, caller.Uid))
        {
            throw PanError.Of(E.NameExisting, StatusCode.AlreadyExists, "The display name is taken.");
        }

        var auth = await FinishAsync(false, errors, session, caller, DisplayNameRules.Clean(name), cancellationToken);
        return new PhoneValidationStep(InputName, Done, false, false, 0, sessionToken, auth);
    }

    /// <summary>
    /// The finishing step, one transaction (SECURITY 21): spending the phase session, moving the member under the phone
    /// (or binding the phone to its own account), its migration status, ending its old sessions (the token generation
    /// bump) and opening the phone-level auth session. A refusal (MAXIMUM_MEMBER, NAME_EXISTING, EXISTING_PHONE) or a
    /// failure half-way leaves all of it unwritten and the phase session usable: the same request may be sent again.
    /// The one exception is a phone whose account was deleted meanwhile (SESSION_INVALID): nothing else is written, but
    /// the phase session is spent, since the account it was opened to join is gone.
    /// </summary>
    private async Task<string> FinishAsync(bool v2, FlowErrors errors, PhaseSession session, AccessTokenInfo caller, string? newName, CancellationToken cancellationToken)
    {
        // Why before the transaction: loading or rotating the signing key writes on a connection of its own, which on
        // SQLite would wait for this transaction's write lock; signing inside it then finds the key in memory.
        await signingKeys.GetSigningKeyAsync(cancellationToken);
        IssuedToken? issued = null;
        var target = await accounts.FindByPhoneAsync(session.PhoneE164!, cancellationToken);
        if (target is not null)
        {
            var failure = await slots.MoveAsync(caller.Uid, target.Id, newName, cancellationToken,
                async (uid, ct) => issued = await SpendAndSwitchSessionsAsync(errors, session, uid, ct));
            switch (failure)
            {
                case SlotFailure.Full:
                    throw Fail(v2, E.MaximumMember, E2.MaximumMember, StatusCode.ResourceExhausted, "This phone already has the most members it may hold.");
                case SlotFailure.NameTaken:
                    // Why: only the v1 flow renames (its name phase), so only ErrValidatePhone has NAME_EXISTING.
                    throw PanError.Of(E.NameExisting, StatusCode.AlreadyExists, "The display name is taken.");
                case SlotFailure.PhoneTaken:
                    throw Fail(v2, E.ExistingPhone, E2.ExistingPhone, StatusCode.AlreadyExists, "This member already has a verified phone.");
                case SlotFailure.AccountGone:
                    // Why: the phone's account was deleted (its last member's deletion committed) after this step found it;
                    // the member is not moved under it, and the flow it was started for (joining that account) is over.
                    // The phase session is spent so that SESSION_INVALID says what it means (the flow is dead): the same
                    // code does not quietly take the now free phone instead, and a flow started again looks the phone up
                    // afresh (as a Login flow opened for a phone without a member stays refused once the phone has one).
                    await sessions.CompleteAsync(session, cancellationToken);
                    throw errors.SessionInvalid("The phone's account was deleted meanwhile; this flow is over: start again.");
            }
        }
        else
        {
            issued = await TakePhoneAsync(v2, errors, session, caller, newName, cancellationToken);
        }

        return issued!.Token;
    }

    /// <summary>Binds the session's phone to the caller's own account (renaming the member when asked), in one transaction.</summary>
    private async Task<IssuedToken> TakePhoneAsync(bool v2, FlowErrors errors, PhaseSession session, AccessTokenInfo caller, string? newName, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            // Why the number is held before anything is written: a sign-up or a block of it in flight on any node is
            // waited for and then seen, and a conversion naming an apinode account by it waits and then sees this
            // account's phone (PhoneClaims); a sign-up holds it before writing the number too, so the two never wait
            // for each other the other way round.
            await PhoneClaims.HoldAsync(db, session.PhoneE164!, cancellationToken);

            // Why here: the code may have been texted before an operator blocked the number; no account takes it then.
            await PhoneBlocks.PhoneBlocks.RefuseAsync(db, session.PhoneE164, clock.GetUtcNow(), cancellationToken);

            var account = await db.Accounts.FirstAsync(a => a.Id == caller.AccountId, cancellationToken);
            var member = await db.Members.FirstAsync(m => m.Uid == caller.Uid, cancellationToken);
            account.PhoneE164 = session.PhoneE164;
            account.PhoneCountryCode = session.PhoneCountryCode;
            account.Modified = clock.GetUtcNow();
            if (newName is not null)
            {
                member.DisplayName = newName;
                member.DisplayNameKey = DisplayNameRules.Key(newName);
            }

            await db.SaveChangesAsync(cancellationToken);
            var issued = await SpendAndSwitchSessionsAsync(errors, session, caller.Uid, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return issued;
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out var what) && newName is not null
            && DbErrors.Concerns(what, "display_name", "display_name_key"))
        {
            await transaction.RollbackAsync(cancellationToken);
            throw PanError.Of(E.NameExisting, StatusCode.AlreadyExists, "The display name is taken.");
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out _))
        {
            await transaction.RollbackAsync(cancellationToken);
            throw Fail(v2, E.ExistingPhone, E2.ExistingPhone, StatusCode.AlreadyExists, "The phone was bound to another account meanwhile; start again.");
        }
    }

    /// <summary>
    /// The in-transaction rest of the finishing step, after the member was placed: spends the phase session (SESSION_INVALID
    /// when a concurrent request spent it first, which rolls everything back), marks the member migrated, ends its old
    /// sessions (bumping its token generation) and opens its phone-level auth session. Joins the caller's transaction.
    /// </summary>
    private async Task<IssuedToken> SpendAndSwitchSessionsAsync(FlowErrors errors, PhaseSession session, long uid, CancellationToken cancellationToken)
    {
        if (!await sessions.CompleteAsync(session, cancellationToken))
        {
            throw errors.SessionInvalid();
        }

        await db.Members.Where(m => m.Uid == uid).ExecuteUpdateAsync(
            u => u.SetProperty(m => m.MigrationStatus, (int)MemberMigrationStatusResponse.Types.MigrationStatus.StatusValidPan), cancellationToken);
        await tokens.RevokeMemberAsync(uid, cancellationToken);
        var moved = await db.Members.AsNoTracking().FirstAsync(m => m.Uid == uid, cancellationToken);
        return await tokens.IssueAuthTokenAsync(AuthMethods.Phone, _ => Task.FromResult<AuthSubject?>(AuthSubject.Of(moved)), cancellationToken)
            ?? throw new InvalidOperationException("No auth session was opened.");
    }

    private async Task EnsureNoPhoneAsync(bool v2, long accountId, CancellationToken cancellationToken)
    {
        if (await db.Accounts.AnyAsync(a => a.Id == accountId && a.PhoneE164 != null, cancellationToken))
        {
            throw Fail(v2, E.ExistingPhone, E2.ExistingPhone, StatusCode.AlreadyExists, "This member already has a verified phone.");
        }
    }

    private async Task EnsureRoomAsync(bool v2, string e164, CancellationToken cancellationToken)
    {
        var target = await accounts.FindByPhoneAsync(e164, cancellationToken);
        if (target is not null && (await accounts.LiveMembersAsync(target.Id, cancellationToken)).Count >= members.Value.MaxPerPhone)
        {
            throw Fail(v2, E.MaximumMember, E2.MaximumMember, StatusCode.ResourceExhausted, "This phone already has the most members it may hold.");
        }
    }

    private async Task<PhaseSession> OpenAsync(bool v2, FlowErrors errors, AccessTokenInfo caller, string token, CancellationToken cancellationToken)
    {
        var session = await sessions.FindAsync(token, v2 ? PhasePurposes.ValidatePhoneV2 : PhasePurposes.ValidatePhone, cancellationToken);
        if (session is null || session.Uid != caller.Uid || session.CompletedAt is not null)
        {
            throw errors.SessionInvalid();
        }

        if (PhaseSessionStore.HeldForCaptcha(session))
        {
            throw errors.CaptchaRequired(token);
        }

        return session;
    }

    private static CaptchaPlatform Platform(int phase) => phase switch
    {
        5 => CaptchaPlatform.Android,
        6 => CaptchaPlatform.Ios,
        7 => CaptchaPlatform.AndroidEnterprise,
        8 => CaptchaPlatform.IosEnterprise,
        _ => CaptchaPlatform.Web,
    };

    private static RpcException ProofInvalid(bool v2) => Fail(v2, E.Failed, E2.Failed, StatusCode.PermissionDenied,
        "A verify_token for update-credential is required: it is missing, wrong, expired, used or for another member or operation.");

    private static RpcException Fail(bool v2, E v1Error, E2 v2Error, StatusCode code, string message) =>
        v2 ? PanError.Of(v2Error, code, message) : PanError.Of(v1Error, code, message);
}
