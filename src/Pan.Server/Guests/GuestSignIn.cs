using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Guests;
using Pan.Data.Members;
using Pan.Server.BruteForce;
using Pan.Server.Credentials;
using Pan.Server.Deletion;
using Pan.Server.Network;

namespace Pan.Server.Guests;

/// <summary>The <c>value</c> of login (apinode's <c>userID</c> and <c>dspName</c>, plus <c>id</c>, the same uid).</summary>
public sealed record GuestLoginValue(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("userID")] long UserId,
    [property: JsonPropertyName("dspName")] string DisplayName);

/// <summary>The <c>value</c> of accNameOk.</summary>
public sealed record AccountNameAvailability([property: JsonPropertyName("isOk")] bool IsOk);

/// <summary>
/// <c>login</c> (account name + client-hashed password → a token valid <c>Pan:Guests:LoginTokenDays</c>), <c>logout</c>
/// (revokes the caller's token) and <c>accNameOk</c> (whether an account name of the app's type is free). Unknown names,
/// wrong passwords and locked accounts all answer 3 after the same work (one Argon2id check); only the right password of
/// an account still waiting for activation answers 4, and sends the activation again when none is live (7 instead when
/// it activates by SMS and its number is blocked). A member whose
/// deletion commits while login runs answers 3 too, with no token issued and no activation written or sent.
/// </summary>
public sealed class GuestSignIn(
    PanDbContext db,
    AccountNames names,
    GuestDirectory directory,
    CredentialStore credentials,
    PasswordHasher hasher,
    FailureCounter failures,
    GuestTokens tokens,
    GuestActivations activations,
    GuestNameLookups lookups,
    TimeProvider clock,
    Metrics.PanMetrics metrics)
{
    public async Task<ApinodeResult> LoginAsync(ApinodeRequest request, GuestApp app, CancellationToken cancellationToken)
    {
        var accName = request.Text("accName") ?? throw new ApinodeException(GuestCodes.MissingAccountName, "Account name is missing.");
        var passwd = request["passwd"];
        if (string.IsNullOrEmpty(passwd))
        {
            throw new ApinodeException(GuestCodes.MissingPassword, "Password is missing.");
        }

        var account = accName.Length > 254 || !GuestPasswords.IsAcceptable(passwd)
            ? null
            : await directory.FindAsync(names.Candidates(app.AccountNameType, accName), cancellationToken);
        if (account is null)
        {
            if (GuestPasswords.IsAcceptable(passwd))
            {
                await hasher.VerifyAgainstDummyAsync(passwd, cancellationToken);
            }

            metrics.SignIn(Metrics.SignInMethods.Guest, Metrics.SignInOutcomes.Wrong);
            throw Failed();
        }

        if (account.Activated is null)
        {
            await CheckPendingAsync(account.Uid, account.PendingPasswordHash, passwd, cancellationToken);
            // Why after the password: only who knows it learns that the account cannot be activated while its number is
            // blocked (7, as every guest path answers for a blocked number); no code is sent, and one texted before the
            // block is refused too (GuestActivations), so pointing the app at it would not help.
            if (account.ActScheme == 2 && await PhoneBlocks.PhoneBlocks.IsBlockedAsync(db, account.MobileE164, clock.GetUtcNow(), cancellationToken))
            {
                throw new ApinodeException(GuestCodes.PhoneBlocked, PhoneBlocks.PhoneBlockedException.Text);
            }

            var live = await activations.LiveAsync(account.Uid, cancellationToken);
            var actId = live?.ActId;
            if (live is null && account.ActScheme != 0)
            {
                actId = await ResendActivationAsync(account, request, cancellationToken);
            }

            throw new ApinodeException(GuestCodes.NotActivated, "The account has not been activated yet.",
                new GuestAccountValue(account.Uid, actId ?? string.Empty, account.ActScheme));
        }

        if (await credentials.CheckPasswordAsync(account.Uid, passwd, cancellationToken) is var check && check != SecretCheck.Ok)
        {
            metrics.SignIn(Metrics.SignInMethods.Guest, check == SecretCheck.Locked ? Metrics.SignInOutcomes.Locked : Metrics.SignInOutcomes.Wrong);
            throw Failed();
        }

        // Why the member is held first: it was found before this transaction, and its deletion may have committed since
        // or (PostgreSQL) be running still; its erasers would then not see this token. Held, either the deletion ends
        // first and no token is issued (3, as for a name that is gone), or this commits first and the deletion erases it.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await LiveMembers.HoldAsync(db, account.Uid, cancellationToken))
        {
            throw Failed();
        }

        var signedIn = await db.Members.AsNoTracking().Where(m => m.Uid == account.Uid)
            .Select(m => new { m.DisplayName, m.TokenGeneration, m.SuspendedUntil }).FirstAsync(cancellationToken);
        // Why here: after the password and the hold, so only who knows the password learns of the suspension, and a
        // suspension in flight is waited for. apinode has no code of its own for it: −20, no permission.
        if (signedIn.SuspendedUntil > clock.GetUtcNow())
        {
            metrics.SignIn(Metrics.SignInMethods.Guest, Metrics.SignInOutcomes.Suspended);
            throw new ApinodeException(ApinodeCodes.NoPermission, "This member is suspended.");
        }

        var token = await tokens.IssueAsync(account.Uid, signedIn.TokenGeneration, app.AppId, GuestTokens.LoginKind, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        metrics.SignIn(Metrics.SignInMethods.Guest, Metrics.SignInOutcomes.Ok);
        return ApinodeResult.Ok(new GuestLoginValue(account.Uid, account.Uid, signedIn.DisplayName ?? string.Empty), token);
    }

    public async Task<ApinodeResult> LogoutAsync(GuestCaller caller, CancellationToken cancellationToken) =>
        await tokens.RevokeAsync(caller.Hash, cancellationToken)
            ? ApinodeResult.Ok()
            : throw new ApinodeException(ApinodeCodes.InvalidToken, "Invalid token.");

    public async Task<ApinodeResult> AccountNameOkAsync(ApinodeRequest request, GuestApp app, CancellationToken cancellationToken)
    {
        await lookups.CountAsync(request, cancellationToken);
        var name = names.Parse(app.AccountNameType, request.Text("accName"))
            ?? throw new ApinodeException(GuestCodes.MissingAccountName, $"Not a valid account name (this app's account names are: {app.AccountNameType}).");
        return ApinodeResult.Ok(new AccountNameAvailability(!await directory.IsTakenAsync(name, null, cancellationToken)));
    }

    /// <summary>
    /// Makes a new activation for a pending account that has none live and sends it; its actID, or null when it could not
    /// be sent (or the account has no address to send to). 3 when the member's deletion committed meanwhile.
    /// </summary>
    /// <remarks>
    /// Why the member is held while the activation is written, and the send waits for that commit: a deletion then
    /// either ends first, and nothing is written or sent, or it waits for this commit and its erasers remove the
    /// activation (the code or link sent goes nowhere).
    /// </remarks>
    private async Task<string?> ResendActivationAsync(GuestAccount account, ApinodeRequest request, CancellationToken cancellationToken)
    {
        NewActivation fresh;
        Member member;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            if (!await LiveMembers.HoldAsync(db, account.Uid, cancellationToken))
            {
                throw Failed();
            }

            member = await db.Members.AsNoTracking().FirstAsync(m => m.Uid == account.Uid, cancellationToken);
            var target = account.ActScheme == 1 ? member.EmailKey : account.MobileE164;
            if (target is null)
            {
                return null;
            }

            fresh = await activations.CreateAsync(account.Uid, account.ActScheme, target, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        var sent = await activations.DeliverAsync(fresh, account.Uid, member.DisplayName, member.Locale, ClientAddress.Of(request.Http), cancellationToken);
        return sent ? fresh.ActId : null;
    }

    /// <summary>The password of an account waiting for activation, checked through the failure counter; 3 unless right.</summary>
    private async Task CheckPendingAsync(long uid, string? pendingHash, string passwd, CancellationToken cancellationToken)
    {
        if ((await failures.StateAsync(uid, cancellationToken)).Locked || pendingHash is null)
        {
            await hasher.VerifyAgainstDummyAsync(passwd, cancellationToken);
            throw Failed();
        }

        if (!(await hasher.VerifyAsync(passwd, pendingHash, cancellationToken)).Matches)
        {
            await failures.RecordFailureAsync(uid, cancellationToken);
            throw Failed();
        }

        if (!await failures.SucceedUnlessLockedAsync(uid, cancellationToken))
        {
            throw Failed();
        }
    }

    private static ApinodeException Failed() => new(GuestCodes.LoginFailed, "Login failed.");
}
