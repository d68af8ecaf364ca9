using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Server.Credentials;
using Pan.Server.Deletion;
using Pan.Server.Tokens;

namespace Pan.Server.Guests;

/// <summary>The <c>value</c> of deleteVerify: the del_token and its expiry in Unix milliseconds.</summary>
public sealed record GuestDelToken(
    [property: JsonPropertyName("delToken")] string DelToken,
    [property: JsonPropertyName("validTo")] long ValidTo);

/// <summary>
/// <c>deleteVerify</c> and <c>delete</c>: how a guest without a phone deletes itself. deleteVerify is the step-up: the
/// guest proves again the credential it signs in with — its apinode token, plus its password once it has one
/// (converted accounts) — and gets a del_token, the verify token VerifyMemberByPassword gives for deletion (single use,
/// <c>Pan:Tokens:VerifyTokenMinutes</c>, bound to the member and to deletion, a proof of that member and not of a phone). delete spends it on the guest's whole
/// account through <see cref="MemberDeletion"/>, so the deletion is the same as DeleteAccount's. An account with a
/// phone answers 21 on both: it deletes through the SMS step-up, never this route.
/// </summary>
public sealed class GuestDeletion(PanDbContext db, CredentialStore credentials, TokenService tokens, MemberDeletion deletion, ILogger<GuestDeletion> logger)
{
    public async Task<ApinodeResult> VerifyAsync(ApinodeRequest request, GuestCaller caller, CancellationToken cancellationToken)
    {
        var hasPhone = await db.Members.AsNoTracking().Where(m => m.Uid == caller.Uid).Select(m => m.Account!.PhoneE164 != null).FirstAsync(cancellationToken);
        if (hasPhone)
        {
            throw HasPhone();
        }

        if ((await credentials.StatusAsync(caller.Uid, cancellationToken)).HasPassword)
        {
            // Why: a token may live for months on a device; once the guest has a password, the step-up asks for it
            // again (through the shared failure counter), as VerifyMemberByPassword does for other members.
            var passwd = request["passwd"];
            if (string.IsNullOrEmpty(passwd))
            {
                throw new ApinodeException(GuestCodes.MissingPassword, "Password is missing: this account has one; send it again to delete.");
            }

            if (!GuestPasswords.IsAcceptable(passwd))
            {
                throw Failed();
            }

            if (await credentials.CheckPasswordAsync(caller.Uid, passwd, cancellationToken) != SecretCheck.Ok)
            {
                throw Failed();
            }
        }

        // Why no more for a temporary account: it has no name, password, email or phone; its token (256 bits, sent
        // with the app's secret) is the only credential it holds, so presenting it is the proof it can give.
        // Why the member is held first: its token was checked before this transaction, and the member's deletion may
        // have committed since or (PostgreSQL) be running still; a del_token issued then named a deleted member. Held,
        // either the deletion ends first and nothing is issued (−3, as for any token whose member is deleted), or this
        // commits first and the deletion then ends every token that could spend the del_token.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await LiveMembers.HoldAsync(db, caller.Uid, cancellationToken))
        {
            throw new ApinodeException(ApinodeCodes.InvalidToken, "Invalid token.");
        }

        IssuedToken issued;
        try
        {
            // Why the purpose of a password proof, not the SMS step-up's: this proves the guest's own credential, never a
            // phone. Stored as Delete, the token stayed a proof of the phone once the guest joined one (ValidateNewMember)
            // within its minutes, and DeleteAccount from the guest's own password sign-in then deleted every member of
            // that phone; as DeleteByPassword it deletes the guest alone there (SECURITY 13 and 19).
            issued = await tokens.IssueStepUpTokenAsync(caller.Uid, VerifyPurposes.DeleteByPassword, cancellationToken);
        }
        catch (Suspension.MemberSuspendedException)
        {
            // A suspension that committed since the token was checked ended the guest's tokens: answered as that ended
            // token now is, with nothing issued.
            throw new ApinodeException(ApinodeCodes.InvalidToken, "Invalid token.");
        }

        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Issued a delete verify token to guest member {Uid} of app {AppId}", caller.Uid, caller.AppId);
        return ApinodeResult.Ok(new GuestDelToken(issued.Token, issued.Expires.ToUnixTimeMilliseconds()));
    }

    public async Task<ApinodeResult> DeleteAsync(ApinodeRequest request, GuestCaller caller, CancellationToken cancellationToken)
    {
        var delToken = request.Text("delToken")
            ?? throw new ApinodeException(GuestCodes.MissingDelToken, "delToken is missing: ask deleteVerify for one.");
        var member = await db.Members.AsNoTracking().Where(m => m.Uid == caller.Uid)
            .Select(m => new { m.ObjectId, m.AccountId }).FirstAsync(cancellationToken);
        var who = new AccessTokenInfo(caller.Uid, member.ObjectId, member.AccountId, 0, caller.AppId, DateTimeOffset.MaxValue, string.Empty);
        return await deletion.DeletePhonelessAccountAsync(who, delToken, cancellationToken) switch
        {
            DeletionOutcome.HasPhone => throw HasPhone(),
            DeletionOutcome.Denied => throw new ApinodeException(GuestCodes.DelTokenInvalid, "delToken is wrong, expired, already used or not for deleting this account; ask deleteVerify again."),
            _ => ApinodeResult.Ok(new { id = caller.Uid }),
        };
    }

    private static ApinodeException HasPhone() => new(GuestCodes.HasPhone,
        "This account has a phone: delete it with the SMS step-up (VerifyPhoneCode with session_token \"delete\", then DeleteAccount).");

    private static ApinodeException Failed() => new(GuestCodes.LoginFailed, "Verification failed.");
}
