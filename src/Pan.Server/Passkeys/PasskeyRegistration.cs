using Fido2NetLib;
using Fido2NetLib.Objects;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Passkeys;
using Pan.General.Member;
using Pan.Server.Audit;
using Pan.Server.Data;
using Pan.Server.Deletion;
using Pan.Server.Errors;
using Pan.Server.Suspension;
using Pan.Server.Tokens;
using BeginErr = Pan.General.Member.BeginPasskeyRegistrationResponse.Types.Error.Types.Value;
using FinishErr = Pan.General.Member.FinishPasskeyRegistrationResponse.Types.Error.Types.Value;

namespace Pan.Server.Passkeys;

/// <summary>
/// Adding a passkey: BeginPasskeyRegistration (behind an "add-passkey" step-up, spent there) stores the creation options
/// for <see cref="PasskeyOptions.ChallengeLifetime"/>; FinishPasskeyRegistration spends them and, when the
/// authenticator's answer checks out (attestation "none"), stores the passkey.
/// </summary>
/// <remarks>
/// The options ask for a discoverable credential (resident key required), user verification as <c>Pan:Passkeys:UserVerification</c> says (required by default), attestation
/// "none", and exclude the member's passkeys. The user handle is random per member (<see cref="PasskeyStore.UserHandleAsync"/>);
/// the user name and display name are the member's display name (its object id when it has none), never its phone.
/// </remarks>
public sealed class PasskeyRegistration(
    PanDbContext db,
    PasskeyCeremonies ceremonies,
    PasskeyChallenges challenges,
    PasskeyStore store,
    TokenService tokens,
    AuditLog audit,
    IOptions<PasskeyOptions> options,
    TimeProvider clock,
    ILogger<PasskeyRegistration> logger)
{
    /// <summary>Longest passkey name.</summary>
    public const int MaxNameLength = 64;

    public const string DefaultName = "Passkey";

    public async Task<BeginPasskeyRegistrationResponse> BeginAsync(BeginPasskeyRegistrationRequest request, CancellationToken cancellationToken)
    {
        var fido = ceremonies.Require(BeginErr.PasskeysOff);
        Required(request.AccessToken, "access_token");
        Required(request.VerifyToken, "verify_token");
        var caller = await tokens.ValidateAccessTokenAsync(request.AccessToken, cancellationToken)
            ?? throw PanError.Of(BeginErr.TokenInvalid, StatusCode.Unauthenticated, "The access token is not valid.");
        // Why before the transaction (SECURITY 17): a made-up verify token is refused before anything is written.
        if (!await tokens.VerifyTokenIsLiveAsync(request.VerifyToken, caller.Uid, VerifyPurposes.AddPasskey, cancellationToken))
        {
            throw BeginVerifyTokenInvalid();
        }

        var member = await db.Members.AsNoTracking().Where(m => m.Uid == caller.Uid && m.Deleted == null)
                .Select(m => new { m.DisplayName, m.ObjectId }).FirstOrDefaultAsync(cancellationToken)
            ?? throw PanError.Of(BeginErr.TokenInvalid, StatusCode.Unauthenticated, "The access token is not valid.");
        var existing = await store.CredentialIdsAsync(caller.Uid, cancellationToken);
        if (existing.Count >= options.Value.MaxPerMember)
        {
            throw PanError.Of(BeginErr.TooManyPasskeys, StatusCode.FailedPrecondition,
                $"The member has {options.Value.MaxPerMember} passkeys, the most allowed; delete one first.");
        }

        await using var transaction = await JoinedTransaction.BeginAsync(db, cancellationToken);
        // Why the member is held first, as the finish does: the verify token and the user handle below are rows the
        // member's deletion erases. Spent first, the token's row was held while the user handle's insert waited for the
        // deletion's update of the member row, which waited for that token's row: a deadlock on PostgreSQL
        // (PasskeyBehaviour.AMemberDeletedAsItsRegistrationSpendsTheVerifyToken_IsTokenInvalid_OrKeepsNothing). Held,
        // either the deletion waits and then erases what this stores, or it committed first and this is TokenInvalid.
        if (!await LiveMembers.HoldAsync(db, caller.Uid, cancellationToken))
        {
            throw PanError.Of(BeginErr.TokenInvalid, StatusCode.Unauthenticated, "The access token is not valid.");
        }

        if (!await tokens.ConsumeVerifyTokenAsync(request.VerifyToken, caller.Uid, VerifyPurposes.AddPasskey, cancellationToken))
        {
            throw BeginVerifyTokenInvalid();
        }

        var name = member.DisplayName ?? member.ObjectId.ToString();
        var creation = fido.RequestNewCredential(new RequestNewCredentialParams
        {
            User = new Fido2User { Id = await store.UserHandleAsync(caller.Uid, cancellationToken), Name = name, DisplayName = name },
            ExcludeCredentials = existing.Select(id => new PublicKeyCredentialDescriptor(id)).ToList(),
            AuthenticatorSelection = new AuthenticatorSelection
            {
                ResidentKey = ResidentKeyRequirement.Required,
                UserVerification = options.Value.UserVerificationRequirement,
            },
            AttestationPreference = AttestationConveyancePreference.None,
        });
        var json = creation.ToJson();
        var id = await challenges.StartAsync(PasskeyChallenge.Registration, caller.Uid, json, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new BeginPasskeyRegistrationResponse { RegistrationId = id, OptionsJson = json };
    }

    public async Task<FinishPasskeyRegistrationResponse> FinishAsync(FinishPasskeyRegistrationRequest request, CancellationToken cancellationToken)
    {
        var fido = ceremonies.Require(FinishErr.PasskeysOff);
        Required(request.AccessToken, "access_token");
        Required(request.RegistrationId, "registration_id");
        var name = ValidName(request.Name);
        var raw = PasskeyJson.Attestation(request.CredentialJson);
        var caller = await tokens.ValidateAccessTokenAsync(request.AccessToken, cancellationToken)
            ?? throw PanError.Of(FinishErr.TokenInvalid, StatusCode.Unauthenticated, "The access token is not valid.");
        var optionsJson = await challenges.SpendAsync(request.RegistrationId, PasskeyChallenge.Registration, caller.Uid, cancellationToken)
            ?? throw PanError.Of(FinishErr.RegistrationInvalid, StatusCode.FailedPrecondition,
                "No live registration of this member has this registration_id (unknown, used or expired); begin again.");

        RegisteredPublicKeyCredential credential;
        try
        {
            credential = await fido.MakeNewCredentialAsync(new MakeNewCredentialParams
            {
                AttestationResponse = raw,
                OriginalOptions = CredentialCreateOptions.FromJson(optionsJson),
                IsCredentialIdUniqueToUserCallback = async (p, ct) => !await db.Set<MemberPasskey>().AnyAsync(k => k.CredentialId == p.CredentialId, ct),
            }, cancellationToken);
        }
        catch (Fido2VerificationException ex) when (ex.Code == Fido2NetLib.Exceptions.Fido2ErrorCode.NonUniqueCredentialId)
        {
            throw AlreadyRegistered();
        }
        catch (Exception ex) when (PasskeyJson.IsRefusal(ex))
        {
            // Why one refusal: the member begins again; the reason goes to the log (it holds no secret).
            logger.LogInformation("Refused a passkey registration of member {Uid}: {Reason}", caller.Uid, (ex as Fido2VerificationException)?.Code.ToString() ?? ex.GetType().Name);
            throw PanError.Of(FinishErr.CredentialRefused, StatusCode.PermissionDenied,
                "The credential does not answer this registration (challenge, origin, RP ID or key refused); begin again.");
        }

        var passkey = new MemberPasskey
        {
            Uid = caller.Uid,
            CredentialId = credential.Id,
            PublicKey = credential.PublicKey,
            SignCount = credential.SignCount,
            Aaguid = credential.AaGuid,
            Name = name,
            Created = clock.GetUtcNow(),
        };
        await using var transaction = await JoinedTransaction.BeginAsync(db, cancellationToken);
        // Why the member and the caller's session are held first, and the token and the suspension read again here: the
        // access token was checked before this transaction, and the member's deletion, suspension or password change (which
        // ends its other sessions) may have committed since or (PostgreSQL) be running still; a passkey stored then outlived
        // the deletion's erasers, or was added for a suspended member or from a session the password change had ended.
        // Held, either that change commits first and nothing is stored (MEMBER_SUSPENDED for a suspension, as a sign-in
        // racing one answers; TokenInvalid for an ended session or a deleted member), or this commits first and the change
        // then erases the passkey or ends the session (PasskeyBehaviour.ARegistrationFinishing_While*).
        var now = clock.GetUtcNow();
        var live = await LiveSessions.HoldAccessTokenAsync(db, request.AccessToken, caller, now, cancellationToken);
        await MemberSuspensions.RefuseAsync(db, caller.Uid, now, cancellationToken);
        if (!live)
        {
            throw PanError.Of(FinishErr.TokenInvalid, StatusCode.Unauthenticated, "The access token is not valid.");
        }

        // Why the member's user-handle row is locked too: the hold above is a share lock, which two finishes of one member
        // both take, so both counted the passkeys stored before either and the last free place was taken twice
        // (PasskeyBehaviour.ParallelFinishes_ForTheLastFreePlace_StoreOnePasskey). The row exists from the begin; FOR UPDATE
        // makes the second finish count after the first commits. SQLite's write transaction already runs them one at a time.
        if (db.Database.IsNpgsql())
        {
            await db.Database.ExecuteSqlInterpolatedAsync($"SELECT 1 FROM passkey_users WHERE uid = {caller.Uid} FOR UPDATE", cancellationToken);
        }

        if (await db.Set<MemberPasskey>().CountAsync(p => p.Uid == caller.Uid, cancellationToken) >= options.Value.MaxPerMember)
        {
            throw PanError.Of(FinishErr.TooManyPasskeys, StatusCode.FailedPrecondition,
                $"The member has {options.Value.MaxPerMember} passkeys, the most allowed; delete one first.");
        }

        db.Add(passkey);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            throw AlreadyRegistered();
        }

        await audit.WriteAsync(AuditLog.Member(caller.Uid), PasskeyStore.AddAction, AuditLog.Member(caller.Uid), "ok", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new FinishPasskeyRegistrationResponse { PasskeyId = PasskeyStore.PublicId(passkey.CredentialId) };
    }

    /// <summary>
    /// A passkey's name as given at FinishPasskeyRegistration or RenamePasskey: trimmed, <see cref="DefaultName"/> when
    /// empty; INVALID_ARGUMENT naming <c>name</c> when longer than <see cref="MaxNameLength"/> or with a control character.
    /// </summary>
    public static string ValidName(string? name)
    {
        var trimmed = name?.Trim() ?? string.Empty;
        if (trimmed.Length == 0)
        {
            return DefaultName;
        }

        return trimmed.Length > MaxNameLength || trimmed.Any(char.IsControl)
            ? throw PanError.InvalidArgument("name", $"must be at most {MaxNameLength} characters without control characters")
            : trimmed;
    }

    private static void Required(string value, string field)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw PanError.InvalidArgument(field, "is required");
        }
    }

    private static RpcException BeginVerifyTokenInvalid() => PanError.Of(BeginErr.VerifyTokenInvalid, StatusCode.PermissionDenied,
        "The verify_token is not a live \"add-passkey\" verify token of this member.");

    private static RpcException AlreadyRegistered() =>
        PanError.Of(FinishErr.AlreadyRegistered, StatusCode.FailedPrecondition, "This credential is already registered.");
}
