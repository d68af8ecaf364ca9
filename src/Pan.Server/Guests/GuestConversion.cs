using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Guests;
using Pan.Data.Members;
using Pan.Server.Accounts;
using Pan.Server.Credentials;
using Pan.Server.Data;
using Pan.Server.Deletion;
using Pan.Server.DisplayNames;
using Pan.Server.Network;
using EmailSyntax = Pan.Server.Email.EmailAddresses;

namespace Pan.Server.Guests;

/// <summary>
/// <c>admin/user/convertTemp</c>: gives the caller's temporary account an account name (of the app's type), a password
/// (the client's hash, hashed again with Argon2id), an email/mobile and profile, keeping its uid, object_id and data.
/// With activation (the app's scheme) the account's tokens stop working, no token is returned, and the password only
/// works once the mailed link or texted code has been used; without, a fresh login token is returned.
/// </summary>
public sealed class GuestConversion(
    PanDbContext db,
    AccountNames names,
    GuestDirectory directory,
    DisplayNameDirectory displayNames,
    CredentialStore credentials,
    GuestTokens tokens,
    GuestActivations activations,
    GuestNameLookups lookups,
    TimeProvider clock,
    ILogger<GuestConversion> logger)
{
    public async Task<ApinodeResult> ConvertAsync(ApinodeRequest request, GuestApp app, GuestCaller caller, CancellationToken cancellationToken)
    {
        // Why: its answers 10 and 11 tell whether a name or email is taken, like accNameOk.
        await lookups.CountAsync(request, cancellationToken);
        var input = Read(request, app);
        var profile = GuestProfileInput.Read(request);
        // Why no row is −3: the row goes only with its member, whose deletion committed after the token was checked.
        var guest = await db.Set<GuestAccount>().FirstOrDefaultAsync(g => g.Uid == caller.Uid, cancellationToken) ?? throw MemberGone();
        if (!guest.Temporary)
        {
            throw new ApinodeException(GuestCodes.NotTemporary, "This account is not a temporary account.");
        }

        var email = Email(request.Text("email") ?? guest.ContactEmail, input.Name, app);
        var mobile = Mobile(request.Text("mobile") ?? guest.MobileE164, input.Name, app);
        if (await directory.IsTakenAsync(input.Name, caller.Uid, cancellationToken))
        {
            throw new ApinodeException(GuestCodes.NameTaken, "The account name has been used (not available).");
        }

        if (email is not null && input.Name.Type != AccountNameTypes.Email && await directory.IsEmailTakenAsync(email, caller.Uid, cancellationToken))
        {
            throw new ApinodeException(GuestCodes.EmailTaken, "The email is used by another account.");
        }

        if (profile.DisplayName is { } dsp && await displayNames.IsTakenAsync(dsp, cancellationToken, caller.Uid))
        {
            throw new ApinodeException(GuestCodes.DisplayNameTaken, "The display name is already used.");
        }

        // Why: the slow Argon2id hash runs before the transaction, which stays short.
        var prepared = await credentials.PrepareAsync(input.Password, null, null, cancellationToken);
        var scheme = ActivationSchemes.Number(app.Activation);
        var now = clock.GetUtcNow();
        NewActivation? activation = null;
        ApinodeToken? token = null;
        Member member;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            // Why the member's row is taken first: the token was checked before this transaction, and the member's
            // deletion may have committed since or (PostgreSQL) be running still; its erasers take the guest row this
            // claims, so a claim that waited for them found no row and answered 20, as if the account were converted.
            // Taken, either the deletion ends first and this answers −3, writing nothing, or this commits first and
            // the deletion erases what it wrote (the name, the password, the token).
            if (!await LiveMembers.LockAsync(db, caller.Uid, cancellationToken))
            {
                throw MemberGone();
            }

            // Why the number is held: a block of it, or a phone account taking it, in flight on any node is waited for
            // and then seen (PhoneClaims); after the member's row, as every holder of both takes them.
            if (mobile is not null)
            {
                await PhoneClaims.HoldAsync(db, mobile, cancellationToken);
            }

            // Why in the transaction: a block committed meanwhile on any node is seen; the account takes no blocked number.
            if (await PhoneBlocks.PhoneBlocks.IsBlockedAsync(db, mobile, now, cancellationToken))
            {
                throw new ApinodeException(GuestCodes.PhoneBlocked, PhoneBlocks.PhoneBlockedException.Text);
            }

            member = await db.Members.FirstAsync(m => m.Uid == caller.Uid, cancellationToken);

            // Why again here: the check above ran before the transaction; a sign-up (or a phone bound) since has the number.
            if (input.Name.Type == AccountNameTypes.Mobile && await PhoneClaims.IsPhoneAccountAsync(db, input.Name.Value, member.AccountId, cancellationToken))
            {
                throw new ApinodeException(GuestCodes.NameTaken, "The account name has been used (not available).");
            }

            // The claim: of concurrent conversions of one account exactly one changes the row.
            var claimed = await db.Set<GuestAccount>().Where(g => g.Uid == caller.Uid && g.Temporary)
                .ExecuteUpdateAsync(u => u.SetProperty(g => g.Temporary, false), cancellationToken);
            if (claimed != 1)
            {
                throw new ApinodeException(GuestCodes.NotTemporary, "This account is not a temporary account.");
            }

            if (email is not null)
            {
                member.Email = email;
                member.EmailKey = EmailSyntax.Key(email);
                member.EmailVerified = false;
            }

            if (input.Name.Type == AccountNameTypes.Name)
            {
                member.Username = input.Name.Value;
            }

            if (profile.DisplayName is { } displayName)
            {
                member.DisplayName = displayName;
                member.DisplayNameKey = DisplayNameRules.Key(displayName);
            }

            member.Locale = profile.Locale ?? member.Locale;
            member.Modified = now;
            guest.Temporary = false;
            guest.NameType = input.Name.Type;
            guest.AccountName = input.Name.Value;
            guest.AccountKey = input.Name.Key;
            guest.MobileE164 = mobile;
            guest.ContactEmail = null;
            guest.FirstName = profile.FirstName ?? guest.FirstName;
            guest.LastName = profile.LastName ?? guest.LastName;
            guest.Address = profile.Address ?? guest.Address;
            guest.Aux = profile.Aux ?? guest.Aux;
            guest.ActScheme = scheme;
            guest.Converted = now;
            try
            {
                if (scheme == 0)
                {
                    guest.Activated = now;
                    await db.SaveChangesAsync(cancellationToken);
                    await credentials.SaveAsync(member.Uid, prepared, cancellationToken);
                    await tokens.RevokeMemberAsync(member.Uid, cancellationToken);
                    token = await tokens.IssueAsync(member.Uid, member.TokenGeneration, app.AppId, GuestTokens.LoginKind, cancellationToken);
                }
                else
                {
                    guest.PendingPasswordHash = prepared.PasswordHash;
                    await db.SaveChangesAsync(cancellationToken);
                    await tokens.RevokeMemberAsync(member.Uid, cancellationToken);
                    activation = await activations.CreateAsync(member.Uid, scheme, scheme == 1 ? member.EmailKey! : mobile!, cancellationToken);
                }
            }
            catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out var what))
            {
                throw Taken(what, input.Name.Type);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        logger.LogInformation("Converted temporary member {Uid} ({NameType} name, activation {Scheme})", member.Uid, input.Name.Type, scheme);
        if (activation is null)
        {
            return ApinodeResult.Ok(new GuestAccountValue(member.Uid, string.Empty, 0), token);
        }

        var value = new GuestAccountValue(member.Uid, activation.ActId, scheme);
        var delivered = await activations.DeliverAsync(activation, member.Uid, member.DisplayName, member.Locale, ClientAddress.Of(request.Http), cancellationToken);
        return delivered
            ? ApinodeResult.Ok(value)
            : ApinodeResult.Error(GuestCodes.ActivationNotSent, "The account was converted, but the activation could not be sent now; sign in later to have it sent again.", value);
    }

    private sealed record Input(AccountName Name, string Password);

    private Input Read(ApinodeRequest request, GuestApp app)
    {
        var accName = request.Text("accName") ?? throw new ApinodeException(GuestCodes.MissingAccountName, "Account name is missing.");
        var passwd = request["passwd"];
        if (string.IsNullOrEmpty(passwd))
        {
            throw new ApinodeException(GuestCodes.MissingPassword, "Password is missing.");
        }

        if (!GuestPasswords.IsAcceptable(passwd))
        {
            throw new ApinodeException(GuestCodes.MissingPassword, GuestPasswords.Problem);
        }

        if (request["passwd2"] is { Length: > 0 } passwd2 && !string.Equals(passwd, passwd2, StringComparison.Ordinal))
        {
            throw new ApinodeException(GuestCodes.PasswordMismatch, "Password and confirmed password do not match.");
        }

        var name = names.Parse(app.AccountNameType, accName) ?? throw app.AccountNameType switch
        {
            AccountNameTypes.Email => new ApinodeException(GuestCodes.MustBeEmail, "The account name should be a valid email."),
            AccountNameTypes.Mobile => new ApinodeException(GuestCodes.MustBeMobile, "The account name should be a valid mobile phone number."),
            _ => new ApinodeException(GuestCodes.MissingAccountName,
                $"The account name must be {AccountNames.MinNameLength} to {AccountNames.MaxNameLength} letters, digits, '_', '-' or '.'."),
        };
        return new Input(name, passwd);
    }

    /// <summary>The member's email: the account name for email apps (an <c>email</c> given too must be the same), else <c>email</c>.</summary>
    private string? Email(string? given, AccountName name, GuestApp app)
    {
        var parsed = given is null ? null : names.Email(given) ?? throw new ApinodeException(GuestCodes.MustBeEmail, "email must be a valid email address.");
        if (name.Type == AccountNameTypes.Email)
        {
            return parsed is not null && parsed.Key != name.Key
                ? throw new ApinodeException(GuestCodes.MustBeEmail, "email must be the account name (or be left out).")
                : name.Value;
        }

        return parsed is null && app.Activation == ActivationSchemes.Email
            ? throw new ApinodeException(GuestCodes.MustBeEmail, "email is required: this app activates accounts by email.")
            : parsed?.Value;
    }

    /// <summary>The member's mobile: the account name for mobile apps (a <c>mobile</c> given too must be the same), else <c>mobile</c>.</summary>
    private string? Mobile(string? given, AccountName name, GuestApp app)
    {
        var parsed = given is null ? null : names.NewMobile(given) ?? throw new ApinodeException(GuestCodes.MustBeMobile, "mobile must be a valid mobile phone number.");
        if (name.Type == AccountNameTypes.Mobile)
        {
            return parsed is not null && parsed.Key != name.Key
                ? throw new ApinodeException(GuestCodes.MustBeMobile, "mobile must be the account name (or be left out).")
                : name.Value;
        }

        return parsed is null && app.Activation == ActivationSchemes.Sms
            ? throw new ApinodeException(GuestCodes.MustBeMobile, "mobile is required: this app activates accounts by SMS.")
            : parsed?.Value;
    }

    /// <summary>−3, as for any token whose member is deleted: the member's deletion committed during the conversion.</summary>
    private static ApinodeException MemberGone() => new(ApinodeCodes.InvalidToken, "Invalid token.");

    /// <summary>The answer to a unique violation: a concurrent request took the display name, the email or the account name.</summary>
    private static ApinodeException Taken(string what, string nameType) =>
        DbErrors.Concerns(what, "ux_members_display_name_key", "display_name_key")
            ? new ApinodeException(GuestCodes.DisplayNameTaken, "The display name is already used.")
            : DbErrors.Concerns(what, "ux_members_email_key", "email_key") && nameType != AccountNameTypes.Email
                ? new ApinodeException(GuestCodes.EmailTaken, "The email is used by another account.")
                : new ApinodeException(GuestCodes.NameTaken, "The account name has been used (not available).");
}

/// <summary>
/// The client-hashed <c>passwd</c>: Pan cannot apply its password rules to a hash, so it only asks for 8–256 code
/// points (any client hash fits) and hashes it again with Argon2id.
/// </summary>
public static class GuestPasswords
{
    public const string Problem = "The password (as hashed by the client) must be 8 to 256 characters.";

    public static bool IsAcceptable(string passwd) =>
        passwd.Length <= PasswordPolicy.MaxLength * 2 && passwd.EnumerateRunes().Count() is >= PasswordPolicy.MinLength and <= PasswordPolicy.MaxLength;
}
