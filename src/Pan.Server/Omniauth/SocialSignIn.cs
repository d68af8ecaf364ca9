using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.Data.Omniauth;
using Pan.General.Member;
using Pan.Server.Credentials;
using Pan.Server.Data;
using Pan.Server.Deletion;
using Pan.Server.DisplayNames;
using Pan.Server.Members;
using Pan.Server.Suspension;

namespace Pan.Server.Omniauth;

/// <summary>What a client sent to <c>through_omniauth</c>, validated; <paramref name="ClientAddress"/> as <c>SmsKeys.Ip</c> keys it.</summary>
public sealed record SocialSignInRequest(string AppId, ProviderCredentials Provider, string? Email, string? Password, string ClientAddress);

/// <summary>
/// <c>through_omniauth</c>: the provider vouches for a user; Pan finds the member bound to that provider identity, or
/// binds it to the member who owns the email (with that member's password), or creates a member; then it issues
/// the client's tokens.
/// </summary>
/// <remarks>
/// Identities are keyed by (provider, provider user id), never by email alone: an email match only binds when the
/// member's password is given (4028 without it, 4026 when wrong; wrong attempts count on the member's failure
/// counter). Because those answers tell whether an email is a member's, the calls of users bound to no member count
/// against <see cref="UnboundSignInLimit"/> (429 past it, whatever the email); a bound user's sign-in does not.
/// The email is the <c>email</c> parameter when given, else the provider's. A member created here has no
/// phone (like an imported member; ValidatePhone can add one later), a display name derived from the provider's name
/// and its email marked verified only when the provider vouches for exactly that address.
/// </remarks>
public sealed class SocialSignIn(
    PanDbContext db,
    SocialProviders providers,
    CredentialStore credentials,
    MemberCreator creator,
    OmniauthTokens tokens,
    UnboundSignInLimit unboundLimit,
    TimeProvider clock,
    ILogger<SocialSignIn> logger,
    Metrics.PanMetrics metrics)
{
    private const int CreateAttempts = 3;

    public async Task<(Member Member, OmniauthTokenPair Tokens)> SignInAsync(SocialSignInRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var signedIn = await SignInOnceOrAgainAsync(request, cancellationToken);
            metrics.SignIn(Metrics.SignInMethods.Social, Metrics.SignInOutcomes.Ok);
            return signedIn;
        }
        catch (OmniauthException ex)
        {
            metrics.SignIn(Metrics.SignInMethods.Social, ex.Code switch
            {
                4030 => Metrics.SignInOutcomes.Suspended,
                403 or 4026 => Metrics.SignInOutcomes.Wrong,
                4028 => "password_required",
                4006 => "already_bound",
                4025 => "no_email",
                429 or 1100 => "limited",
                503 => "unavailable",
                _ => "failed",
            });
            throw;
        }
    }

    private async Task<(Member Member, OmniauthTokenPair Tokens)> SignInOnceOrAgainAsync(SocialSignInRequest request, CancellationToken cancellationToken)
    {
        ProviderIdentity identity;
        try
        {
            identity = await providers.VerifyAsync(request.Provider, cancellationToken);
        }
        catch (ProviderRejectedException ex)
        {
            logger.LogInformation("Social sign-in with {Provider} refused: {Reason}", request.Provider.Provider, ex.Message);
            throw OmniauthException.AuthorizationFailed();
        }

        // Why once: a second look-up below is the same call, not another probe.
        var counted = false;
        async Task CountUnboundAsync()
        {
            if (!counted)
            {
                counted = true;
                await unboundLimit.CountAsync(request.ClientAddress, cancellationToken);
            }
        }

        // Why a second look: the member found may be deleted, or the identity unlinked, before the sign-in's transaction
        // holds it (the identity went), or a member created meanwhile may have taken the email as its verified holder; the
        // user is then looked up again, as on a sign-in a moment later.
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            if (await SignInOnceAsync(request, identity, CountUnboundAsync, cancellationToken) is { } signedIn)
            {
                return signedIn;
            }
        }

        logger.LogWarning("Social sign-in with {Provider} kept meeting members deleted or created meanwhile", identity.Provider);
        throw OmniauthException.TokenGenerationFailed();
    }

    /// <summary>
    /// One look-up and sign-in; null when the member it found was deleted, or the identity unlinked, before its
    /// transaction held it, or when the member it was creating lost the email to a member made its verified holder meanwhile.
    /// </summary>
    private async Task<(Member Member, OmniauthTokenPair Tokens)?> SignInOnceAsync(
        SocialSignInRequest request, ProviderIdentity identity, Func<Task> countUnbound, CancellationToken cancellationToken)
    {
        var bound = await BoundMemberAsync(identity, cancellationToken);
        if (bound is not null)
        {
            return await SignInBoundAsync(bound, identity, request.AppId, cancellationToken);
        }

        // Why before the email is looked at: past the limit the answer is the same whether the email is a member's or not.
        await countUnbound();

        var email = EmailFor(request.Email, identity);
        var key = EmailAddresses.Key(email);
        // Why verified only: an unverified address is nobody's (several members may hold it); asking for the password of
        // a member who merely typed the address in would let that member lock the address's owner out of social sign-in.
        var owner = await db.Members.AsNoTracking().Where(m => m.EmailKey == key && m.EmailVerified && m.Deleted == null).Select(m => (long?)m.Uid).FirstOrDefaultAsync(cancellationToken);
        if (owner is not { } uid)
        {
            return await CreateAsync(email, identity, request.AppId, cancellationToken);
        }

        // Why: a concurrent first sign-in of the same provider user may have created the member (with this email)
        // since the look-up above; that member is this user's, so sign it in rather than ask for a password.
        return await BoundMemberAsync(identity, cancellationToken) is { } created
            ? await SignInBoundAsync(created, identity, request.AppId, cancellationToken)
            : await BindToOwnerAsync(uid, identity, request, cancellationToken);
    }

    /// <summary>The email to use: the <c>email</c> parameter (checked by the caller), else the provider's (4025 when neither).</summary>
    private static string EmailFor(string? given, ProviderIdentity identity)
    {
        if (given is not null)
        {
            return given;
        }

        return EmailAddresses.Normalize(identity.Email) ?? throw OmniauthException.EmailNotAvailable();
    }

    private Task<Member?> BoundMemberAsync(ProviderIdentity identity, CancellationToken cancellationToken) => (
            from i in db.Set<SocialIdentity>()
            join m in db.Members on i.Uid equals m.Uid
            where i.Provider == identity.Provider && i.ProviderUserId == identity.UserId && m.Deleted == null
            select m)
        .AsNoTracking()
        .SingleOrDefaultAsync(cancellationToken);

    /// <summary>Signs the bound member in; null when it was deleted, or the identity unlinked, before this transaction held it (nothing is written).</summary>
    private async Task<(Member, OmniauthTokenPair)?> SignInBoundAsync(Member member, ProviderIdentity identity, string appId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Why first: a deletion not yet committed is waited for, and then no token is issued to the member it deleted.
        if (!await LiveMembers.HoldAsync(db, member.Uid, cancellationToken))
        {
            await transaction.RollbackAsync(cancellationToken);
            return null;
        }

        var now = clock.GetUtcNow();
        // Why read again: the row found before the hold may predate a suspension (or a token generation bump).
        var uid = member.Uid;
        member = await db.Members.AsNoTracking().SingleAsync(m => m.Uid == uid, cancellationToken);
        RefuseSuspended(member, identity, now);
        // Why the count: the member may have unlinked the identity before this transaction held its row (UnlinkSocialIdentity
        // holds it too); the user is then bound to nobody and is looked up again, so no session outlives the unlink.
        var stillBound = await db.Set<SocialIdentity>().Where(i => i.Provider == identity.Provider && i.ProviderUserId == identity.UserId && i.Uid == uid)
            .ExecuteUpdateAsync(u => u.SetProperty(i => i.LastUsed, now), cancellationToken);
        if (stillBound == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return null;
        }

        var pair = await tokens.IssueAsync(member, appId, identity.Provider, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Member {Uid} signed in with {Provider}", member.Uid, identity.Provider);
        return (member, pair);
    }

    /// <summary>Binds the identity to the email's member (with its password); null when that member was deleted before this transaction held it.</summary>
    private async Task<(Member, OmniauthTokenPair)?> BindToOwnerAsync(long uid, ProviderIdentity identity, SocialSignInRequest request, CancellationToken cancellationToken)
    {
        if (request.Password is null)
        {
            throw OmniauthException.PasswordRequired();
        }

        if (await credentials.CheckPasswordAsync(uid, request.Password, cancellationToken) != SecretCheck.Ok)
        {
            throw OmniauthException.InvalidPassword();
        }

        if (await db.Set<SocialIdentity>().AnyAsync(i => i.Uid == uid && i.Provider == identity.Provider, cancellationToken))
        {
            throw OmniauthException.AlreadyBound();
        }

        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // Why first: bound to a member whose deletion is not yet committed, the identity would outlive the deletion's
            // erasers on the tombstone and keep the provider user out of social sign-in for good.
            if (!await LiveMembers.HoldAsync(db, uid, cancellationToken))
            {
                await transaction.RollbackAsync(cancellationToken);
                return null;
            }

            var member = await db.Members.AsNoTracking().SingleAsync(m => m.Uid == uid && m.Deleted == null, cancellationToken);
            RefuseSuspended(member, identity, clock.GetUtcNow());
            AddIdentity(uid, identity);
            await db.SaveChangesAsync(cancellationToken);
            var pair = await tokens.IssueAsync(member, request.AppId, identity.Provider, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            logger.LogInformation("Bound a {Provider} identity to member {Uid}", identity.Provider, uid);
            return (member, pair);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            // Why: another request bound this provider identity, or another identity of this provider to the member, first.
            db.ChangeTracker.Clear();
            throw OmniauthException.AlreadyBound();
        }
    }

    private async Task<(Member, OmniauthTokenPair)?> CreateAsync(string email, ProviderIdentity identity, string appId, CancellationToken cancellationToken)
    {
        var name = SocialMemberNames.Base(identity.Name);
        var key = DisplayNameRules.Key(name);
        if (await db.Members.AnyAsync(m => m.DisplayNameKey == key, cancellationToken))
        {
            name = SocialMemberNames.WithSuffix(name);
        }

        var verified = identity.EmailVerified && identity.Email is not null && EmailAddresses.Key(identity.Email.Trim()) == EmailAddresses.Key(email);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
                var member = await creator.CreateAsync(new Account(), new Member
                {
                    DisplayName = name,
                    DisplayNameKey = DisplayNameRules.Key(name),
                    Email = email,
                    EmailKey = EmailAddresses.Key(email),
                    EmailVerified = verified,
                    IsOwner = true,
                    MigrationStatus = (int)MemberMigrationStatusResponse.Types.MigrationStatus.StatusNewPan,
                }, cancellationToken);
                AddIdentity(member.Uid, identity);
                await db.SaveChangesAsync(cancellationToken);
                var pair = await tokens.IssueAsync(member, appId, identity.Provider, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                metrics.Registration("social");
                logger.LogInformation("Created member {Uid} by {Provider} sign-in", member.Uid, identity.Provider);
                return (member, pair);
            }
            catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out var what))
            {
                db.ChangeTracker.Clear();
                if (attempt < CreateAttempts && DbErrors.Concerns(what, "ux_members_display_name_key", "display_name_key"))
                {
                    name = SocialMemberNames.WithSuffix(SocialMemberNames.Base(identity.Name));
                    continue;
                }

                if (await BoundMemberAsync(identity, cancellationToken) is { } winner)
                {
                    // Why: a concurrent first sign-in of the same provider user created the member first.
                    return await SignInBoundAsync(winner, identity, appId, cancellationToken);
                }

                if (DbErrors.Concerns(what, "ux_members_email_key", "email_key"))
                {
                    // Why: a concurrent request (another provider user, a verification) made a member the address's
                    // verified holder first; looked up again, this sign-in meets that owner as it would a moment later
                    // (4028, or a binding with the password given), not an error of its own.
                    return null;
                }

                logger.LogWarning("Creating a member by {Provider} sign-in failed on a unique index", identity.Provider);
                throw OmniauthException.TokenGenerationFailed();
            }
        }
    }

    /// <summary>
    /// Refuses a suspended member (4030), read in the sign-in's transaction after the member's row is held and the
    /// provider user (and the password, when binding) proven; the transaction is left uncommitted, so nothing is written.
    /// </summary>
    private void RefuseSuspended(Member member, ProviderIdentity identity, DateTimeOffset now)
    {
        if (MemberSuspensions.IsSuspended(member, now))
        {
            logger.LogInformation("Social sign-in with {Provider} of suspended member {Uid} refused", identity.Provider, member.Uid);
            throw OmniauthException.MemberSuspended();
        }
    }

    private void AddIdentity(long uid, ProviderIdentity identity)
    {
        var now = clock.GetUtcNow();
        db.Add(new SocialIdentity { Provider = identity.Provider, ProviderUserId = identity.UserId, Uid = uid, Created = now, LastUsed = now });
    }
}
