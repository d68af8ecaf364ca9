using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Email;
using Pan.Data.Guests;
using Pan.Server.Accounts;
using Pan.Server.BruteForce;
using Pan.Server.Credentials;
using Pan.Server.Data;
using Pan.Server.Deletion;
using Pan.Server.Email;
using Pan.Server.Errors;
using Pan.Server.Links;
using Pan.Server.Phones;
using Pan.Server.Sms;
using Pan.Server.Tokens;

namespace Pan.Server.Guests;

/// <summary>A pending activation just made: its public id and the secret to deliver (link token or 6-digit code).</summary>
public sealed record NewActivation(string ActId, int Scheme, string Target, string Secret);

/// <summary>
/// Activation of converted accounts. Email (scheme 1): a 256-bit token in a mailed link to
/// <c>admin/user/activate/{token}</c>, valid <c>Pan:Guests:EmailLinkMinutes</c>. SMS (scheme 2): a 6-digit code texted
/// through the SMS gate (its caps apply), valid <c>Pan:Guests:SmsCodeMinutes</c>, submitted as
/// <c>admin/user/activate/{code}@{mobile}</c> as apinode documented; after <c>Pan:Guests:MaxCodeAttempts</c> wrong codes
/// for a number its pending codes are dead, and each wrong code counts on the member's failure counter. Secrets are
/// stored as SHA-256, used once (one conditional UPDATE, so of concurrent submissions exactly one wins), and a new
/// activation kills the member's previous ones.
/// </summary>
public sealed class GuestActivations(
    PanDbContext db,
    CredentialStore credentials,
    FailureCounter failures,
    PhoneNumbers phones,
    AccountNames names,
    Mailer mailer,
    DeliveryGate deliveries,
    SmsGate sms,
    IOptions<Captcha.CaptchaOptions> captcha,
    IOptions<GuestOptions> options,
    IOptions<LinksOptions> linkOptions,
    TimeProvider clock,
    ILogger<GuestActivations> logger)
{
    /// <summary>The delivery-log purpose of activation mails (cool-down and hourly caps of <c>Pan:Email:Limits</c>).</summary>
    public const string DeliveryPurpose = "guest-activation";

    /// <summary>Makes a pending activation (joins the caller's transaction) and kills the member's earlier ones.</summary>
    public async Task<NewActivation> CreateAsync(long uid, int scheme, string target, CancellationToken cancellationToken)
    {
        await db.Set<GuestActivation>().Where(a => a.Uid == uid && a.UsedAt == null).ExecuteDeleteAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var actId = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
        string secret;
        byte[] hash;
        if (scheme == 1)
        {
            (secret, hash) = OpaqueTokens.Create();
        }
        else
        {
            secret = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
            hash = CodeHash(actId, secret);
        }

        // Why it expires at once: an activation is live only once its secret has left (DeliverAsync); one whose sending
        // never happened (a failure after the caller's commit, the database gone) stays dead, so login sends a new one.
        db.Add(new GuestActivation { ActId = actId, Uid = uid, Scheme = scheme, Target = target, SecretHash = hash, Created = now, Expires = now });
        await db.SaveChangesAsync(cancellationToken);
        return new NewActivation(actId, scheme, target, secret);
    }

    /// <summary>
    /// Mails or texts the secret (call after committing), then makes the activation live for its lifetime. False when a
    /// limit blocked it or it failed in any way (the provider or the database down, also right after the caller's
    /// commit): the activation then never became live and is discarded if the database allows, so the next sign-in with
    /// the right password makes and sends a new one (within the same caps).
    /// </summary>
    public async Task<bool> DeliverAsync(NewActivation activation, long uid, string? displayName, string locale, IPAddress? clientIp, CancellationToken cancellationToken)
    {
        var actId = activation.ActId;
        try
        {
            var delivered = activation.Scheme == 1
                ? await MailAsync(activation, uid, displayName, locale, clientIp, cancellationToken)
                : await TextAsync(activation, locale, clientIp, cancellationToken);
            if (delivered)
            {
                // Why never cancelled: the secret has left; the activation must become live with it.
                var expires = clock.GetUtcNow() + Lifetime(activation.Scheme);
                await db.Set<GuestActivation>().Where(a => a.ActId == actId && a.UsedAt == null)
                    .ExecuteUpdateAsync(u => u.SetProperty(a => a.Expires, expires), CancellationToken.None);
                return true;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Why every failure: the caller's conversion or sign-in committed; what failed is only the sending, and the
            // member gets it at the next sign-in. Only the type and message: never the secret.
            logger.Log(ErrorInterceptor.IsOutage(ex) ? LogLevel.Warning : LogLevel.Error,
                "Activation of member {Uid} not delivered: {ErrorType}: {Error}", uid, ex.GetType().Name, ex.Message);
        }

        try
        {
            await db.Set<GuestActivation>().Where(a => a.ActId == actId && a.UsedAt == null).ExecuteDeleteAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Why no more: an activation never made live is dead already; the janitor removes it.
            logger.LogWarning("Undelivered activation of member {Uid} not discarded: {Error}", uid, ex.Message);
        }

        return false;
    }

    private TimeSpan Lifetime(int scheme) =>
        TimeSpan.FromMinutes(scheme == 1 ? options.Value.EmailLinkMinutes : options.Value.SmsCodeMinutes);

    /// <summary>
    /// <c>admin/user/activate/{actCode}</c>: the member's uid, or <see cref="ApinodeException"/> 1 (no code) / 2 (wrong,
    /// expired or used, or a texted code of a member the failure counter holds) / 7 (a texted code for a blocked number).
    /// </summary>
    public async Task<long> ActivateAsync(string? actCode, CancellationToken cancellationToken)
    {
        var code = actCode?.Trim();
        if (string.IsNullOrEmpty(code))
        {
            throw new ApinodeException(GuestCodes.MissingActivationCode, "The activation code is missing.");
        }

        var at = code.LastIndexOf('@');
        var found = at < 0 ? await FindLinkAsync(code, cancellationToken) : await FindSmsAsync(code[..at], code[(at + 1)..], cancellationToken);
        var activation = found is null ? null : await AfterItsSendAsync(found, cancellationToken);
        if (activation is null)
        {
            throw Invalid();
        }

        var now = clock.GetUtcNow();
        var max = options.Value.MaxCodeAttempts;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Why the member's row is taken first: the code was found before this transaction, and the member's deletion may
        // be running still (PostgreSQL). Taken after the code's row, it deadlocked with a deletion whose erasers wait for
        // that row, or let the deletion erase the credentials before this stored the password there, leaving the hash on
        // the tombstone. Taken first, either the deletion ends first and the code is refused (2), or this commits first
        // and the deletion erases the password it stored.
        if (!await LiveMembers.LockAsync(db, activation.Uid, cancellationToken))
        {
            throw Invalid();
        }

        // Why again, in the transaction: the check before judging the code ran outside it, and a block committed since on
        // any node must refuse the code too (7, the code unspent). The number is held first, so a block still in flight
        // is waited for and then seen (PhoneClaims).
        if (activation.Scheme == 2)
        {
            await PhoneClaims.HoldAsync(db, activation.Target, cancellationToken);
            if (await PhoneBlocks.PhoneBlocks.IsBlockedAsync(db, activation.Target, now, cancellationToken))
            {
                await transaction.RollbackAsync(cancellationToken);
                throw new ApinodeException(GuestCodes.PhoneBlocked, PhoneBlocks.PhoneBlockedException.Text);
            }
        }

        var won = await db.Set<GuestActivation>()
            .Where(a => a.Id == activation.Id && a.UsedAt == null && a.Expires > now && a.Attempts < max)
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.UsedAt, now), cancellationToken) == 1;
        var account = won ? await db.Set<GuestAccount>().FirstOrDefaultAsync(g => g.Uid == activation.Uid && g.Activated == null, cancellationToken) : null;
        if (account is null)
        {
            await transaction.RollbackAsync(cancellationToken);
            throw Invalid();
        }

        if (account.PendingPasswordHash is { } hash)
        {
            await credentials.SaveAsync(account.Uid, new PreparedCredentials(hash, null, null), cancellationToken);
        }

        account.PendingPasswordHash = null;
        account.Activated = now;
        if (activation.Scheme == 2)
        {
            account.MobileVerified = account.MobileE164 == activation.Target;
        }
        else
        {
            await MarkEmailVerifiedAsync(transaction, account.Uid, activation.Target, now, cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await failures.ResetAsync(account.Uid, cancellationToken);
        logger.LogInformation("Activated member {Uid} (scheme {Scheme})", account.Uid, activation.Scheme);
        return account.Uid;
    }

    /// <summary>
    /// Marks the activated member's email verified. Why it may not be: only verified addresses are unique, and another
    /// member may have verified this one since the conversion; the activation still completes and the email stays
    /// unverified (whoever verified first owns the address). The savepoint keeps the transaction usable on PostgreSQL.
    /// </summary>
    private async Task MarkEmailVerifiedAsync(Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction transaction, long uid, string target, DateTimeOffset now, CancellationToken cancellationToken)
    {
        const string Savepoint = "activation_email";
        await transaction.CreateSavepointAsync(Savepoint, cancellationToken);
        try
        {
            await db.Members.Where(m => m.Uid == uid && m.EmailKey == target)
                .ExecuteUpdateAsync(u => u.SetProperty(m => m.EmailVerified, true).SetProperty(m => m.Modified, now), cancellationToken);
        }
        catch (Exception ex) when (DbErrors.IsUniqueViolation(ex, out var what) && DbErrors.Concerns(what, "ux_members_email_key", "email_key"))
        {
            await transaction.RollbackToSavepointAsync(Savepoint, cancellationToken);
            logger.LogInformation("Activated member {Uid} without verifying its email: another member verified the address first", uid);
        }
    }

    /// <summary>The live activation of a member, if any (login of a pending account resends only when there is none).</summary>
    public Task<GuestActivation?> LiveAsync(long uid, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var max = options.Value.MaxCodeAttempts;
        return db.Set<GuestActivation>().AsNoTracking()
            .Where(a => a.Uid == uid && a.UsedAt == null && a.Expires > now && a.Attempts < max)
            .OrderByDescending(a => a.Id)
            .FirstOrDefaultAsync(cancellationToken);
    }

    private TimeSpan SendWait => TimeSpan.FromSeconds(options.Value.SendWaitSeconds);

    /// <summary>
    /// The activation as it is once its send has finished: at once when it is not being sent (live, used, expired);
    /// otherwise (made within <c>Pan:Guests:SendWaitSeconds</c> and not yet made live: its mail or text may have arrived
    /// before Pan heard back from the provider) read again until it is made live (returned), discarded after a failed
    /// send (null) or the wait is over (returned dead: refused).
    /// </summary>
    /// <remarks>
    /// Why polling the row, without holding anything: the send runs outside any transaction (on SQLite a transaction held
    /// across it would hold the database's write lock for the whole send). Why real time for the wait: Pan's clock may
    /// stand still (tests), and a send's own timeout is real time too. An activation whose sending node died is dead,
    /// and is no longer waited for once older than the wait.
    /// </remarks>
    private async Task<GuestActivation?> AfterItsSendAsync(GuestActivation activation, CancellationToken cancellationToken)
    {
        if (!BeingSent(activation) || activation.Created <= clock.GetUtcNow() - SendWait)
        {
            return activation;
        }

        var started = Stopwatch.GetTimestamp();
        var row = activation;
        while (row is not null && BeingSent(row) && Stopwatch.GetElapsedTime(started) < SendWait)
        {
            await Task.Delay(SendPoll, cancellationToken);
            row = await db.Set<GuestActivation>().AsNoTracking().SingleOrDefaultAsync(a => a.Id == activation.Id, cancellationToken);
        }

        return row;
    }

    private static readonly TimeSpan SendPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>Made and not yet made live (CreateAsync stores it expiring as it is made).</summary>
    private static bool BeingSent(GuestActivation activation) => activation.UsedAt is null && activation.Expires == activation.Created;

    private async Task<GuestActivation?> FindLinkAsync(string token, CancellationToken cancellationToken)
    {
        if (OpaqueTokens.Hash(token) is not { } hash)
        {
            return null;
        }

        var row = await db.Set<GuestActivation>().AsNoTracking().FirstOrDefaultAsync(a => a.SecretHash == hash && a.Scheme == 1, cancellationToken);
        return row is not null && CryptographicOperations.FixedTimeEquals(row.SecretHash, hash) ? row : null;
    }

    private async Task<GuestActivation?> FindSmsAsync(string code, string mobile, CancellationToken cancellationToken)
    {
        if (code.Length != 6 || !code.All(char.IsAsciiDigit) || names.Mobile(mobile) is not { } number)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        var max = options.Value.MaxCodeAttempts;
        var target = number.Value;
        // Why before the code is judged: a code texted before the number was blocked activates nothing after it (7, the
        // code unspent and no wrong try counted), as phone sign-in refuses such a code; blocking is not secret (createTemp
        // with the number answers 7 to anyone).
        if (await PhoneBlocks.PhoneBlocks.IsBlockedAsync(db, target, now, cancellationToken))
        {
            throw new ApinodeException(GuestCodes.PhoneBlocked, PhoneBlocks.PhoneBlockedException.Text);
        }

        // Why also the ones still being sent: the provider may deliver the code before Pan hears that it did and makes
        // the activation live (AfterItsSendAsync then waits for that); a wrong code counts against them too.
        var sendingSince = now - SendWait;
        var candidates = await db.Set<GuestActivation>().AsNoTracking()
            .Where(a => a.Target == target && a.Scheme == 2 && a.UsedAt == null && a.Attempts < max
                && (a.Expires > now || (a.Expires == a.Created && a.Created > sendingSince)))
            .ToListAsync(cancellationToken);
        // Why: a member the failure counter makes wait (or has locked) gets its code refused without it being looked at,
        // the right one too, and the refused try is not counted (SECURITY 10). Mailed links are left out of this: their
        // secret is a 256-bit token, which the counter does not need to protect.
        var live = new List<GuestActivation>(candidates.Count);
        foreach (var candidate in candidates)
        {
            if (!(await failures.StateAsync(candidate.Uid, cancellationToken)).Locked)
            {
                live.Add(candidate);
            }
        }

        var match = live.FirstOrDefault(a => CryptographicOperations.FixedTimeEquals(a.SecretHash, CodeHash(a.ActId, code)));
        if (match is null && live.Count > 0)
        {
            var ids = live.Select(a => a.Id).ToList();
            await db.Set<GuestActivation>().Where(a => ids.Contains(a.Id))
                .ExecuteUpdateAsync(u => u.SetProperty(a => a.Attempts, a => a.Attempts + 1), cancellationToken);
            foreach (var uid in live.Select(a => a.Uid).Distinct())
            {
                await failures.RecordFailureAsync(uid, cancellationToken);
            }
        }

        return match;
    }

    private async Task<bool> MailAsync(NewActivation activation, long uid, string? displayName, string locale, IPAddress? clientIp, CancellationToken cancellationToken)
    {
        var address = activation.Target;
        var reservation = await deliveries.ReserveAsync(DeliveryPurpose, uid, EmailAddresses.Hash(address), clientIp, cancellationToken);
        if (!reservation.Allowed)
        {
            return false;
        }

        var outcome = DeliveryOutcome.Failed;
        try
        {
            var link = ActivationLink(activation.Secret);
            await mailer.SendAsync(address, displayName, locale, EmailKind.ActivateAccount,
                new EmailModel(displayName, Link: link, Minutes: options.Value.EmailLinkMinutes), cancellationToken);
            outcome = DeliveryOutcome.Sent;
            return true;
        }
        finally
        {
            await deliveries.FinishAsync(reservation, outcome);
        }
    }

    private async Task<bool> TextAsync(NewActivation activation, string locale, IPAddress? clientIp, CancellationToken cancellationToken)
    {
        var phone = phones.FromE164(activation.Target);
        if (phone is null)
        {
            return false;
        }

        // Why: with a captcha mode on, a phone flow's text to a number the SMS risk rules trip (a high-risk country, a
        // phone or address that had many texts this hour) waits for a captcha; the apinode API carries none, so such a
        // text is not sent at all (the caller answers 30, as for a capped one). Email activation is unaffected.
        if (captcha.Value.Mode != Captcha.CaptchaMode.Off && await sms.IsRiskyAsync(phone, clientIp, cancellationToken))
        {
            logger.LogWarning("Activation SMS to number ending {PhoneSuffix} not sent: the SMS risk rules need a captcha the apinode API cannot carry", phone.Suffix);
            return false;
        }

        var minutes = options.Value.SmsCodeMinutes.ToString(CultureInfo.InvariantCulture);
        var text = locale == Locales.TraditionalChinese
            ? $"您的 Pan 帳號啟用碼：{activation.Secret}（{minutes} 分鐘內有效）。請勿告訴任何人。"
            : $"Your Pan activation code: {activation.Secret} (valid {minutes} minutes). Never share it.";
        var result = await sms.SendAsync(phone, text, SmsPurpose.Activation, clientIp, cancellationToken);
        return result.Sent;
    }

    /// <summary>The mailed link, built from <c>Pan:Links:PublicBaseUrl</c> (never the Host header).</summary>
    private Uri ActivationLink(string token)
    {
        var root = linkOptions.Value.Base;
        return new Uri(string.Create(CultureInfo.InvariantCulture, $"{root}{options.Value.BasePath}/admin/user/activate/{Uri.EscapeDataString(token)}"));
    }

    private static byte[] CodeHash(string actId, string code) => SHA256.HashData(Encoding.UTF8.GetBytes(actId + ":" + code));

    private static ApinodeException Invalid() => new(GuestCodes.ActivationCodeInvalid, "The activation code is wrong, expired or already used.");
}
