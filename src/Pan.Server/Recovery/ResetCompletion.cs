using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Server.Accounts;
using Pan.Server.BruteForce;
using Pan.Server.Credentials;
using Pan.Server.Deletion;
using Pan.Server.Email;
using Pan.Server.Errors;
using Pan.Server.Phones;
using Pan.Server.Sms;

namespace Pan.Server.Recovery;

/// <summary>Why a new password was not accepted.</summary>
public enum ResetRefusal
{
    None,
    PasswordRequired,
    Mismatch,
    PasswordRule,
    AnswerRequired,
}

/// <summary>The verdict on a reset request; <see cref="Reason"/> says why the password rules refused it.</summary>
public sealed record ResetCheck(ResetRefusal Refusal, string? Reason = null)
{
    public static ResetCheck Ok { get; } = new(ResetRefusal.None);
}

/// <summary>
/// The last step of every password reset (AuthResetUpdate and the hosted reset page): checks the new password (present,
/// confirmed, within the password rules, which see the member's phone, email, display name and account name) and —
/// when the member has a security question — the answer (missing, wrong and locked are one answer); then, in one transaction, spends the
/// reset's proof, sets the password through the credential store (ending every session) and clears the failure
/// counter, and after the commit tells the member by email (and by SMS when the reset went through the phone).
/// </summary>
public sealed class ResetCompletion(
    PanDbContext db,
    PasswordPolicy policy,
    CredentialStore credentials,
    FailureCounter failures,
    EmailNotices notices,
    SmsGate sms,
    PhoneNumbers phones,
    ILogger<ResetCompletion> logger)
{
    /// <summary>Refused before any other work: no legitimate password is longer (the password rules set the real limit).</summary>
    public const int MaxPasswordLength = 4096;

    /// <summary>Longest security answer read.</summary>
    public const int MaxAnswerLength = 1024;

    public async Task<ResetCheck> CheckAsync(long uid, string? password, string? confirm, string? answer, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(password))
        {
            return new ResetCheck(ResetRefusal.PasswordRequired);
        }

        if (!string.Equals(password, confirm, StringComparison.Ordinal))
        {
            return new ResetCheck(ResetRefusal.Mismatch);
        }

        if (password.Length > MaxPasswordLength)
        {
            return new ResetCheck(ResetRefusal.PasswordRule, "The password is too long.");
        }

        var who = await (
                from m in db.Members.AsNoTracking()
                join a in db.Accounts on m.AccountId equals a.Id
                where m.Uid == uid
                select new { m.DisplayName, m.Email, m.Username, a.PhoneE164 })
            .FirstAsync(cancellationToken);
        // Why the account name too: a converted guest's username is public like its display name, and every other way
        // of setting a password (the admin's ChangeMemberPassword, UpdateCredential) refuses one derived from it.
        if (policy.Check(password, [who.PhoneE164, who.Email, who.DisplayName, who.Username]) is { } problem)
        {
            return new ResetCheck(ResetRefusal.PasswordRule, problem.Reason);
        }

        if (await credentials.SecurityQuestionAsync(uid, cancellationToken) is not null
            && (string.IsNullOrWhiteSpace(answer) || answer.Length > MaxAnswerLength
                || await credentials.CheckSecurityAnswerAsync(uid, answer, cancellationToken) != SecretCheck.Ok))
        {
            return new ResetCheck(ResetRefusal.AnswerRequired);
        }

        return ResetCheck.Ok;
    }

    /// <summary>
    /// Spends the reset's proof (<paramref name="consume"/>: the auth_reset_token, or the link and its code), sets the
    /// password (every session and every app grant of the member ends) and clears the failure counter, all in one
    /// transaction, then sends the notices. False, with nothing written, when the proof was already spent or the member
    /// was deleted meanwhile.
    /// </summary>
    /// <remarks>
    /// Why one transaction (SECURITY 21): a failure half-way used to leave the new password set while the caller heard
    /// INTERNAL and the proof was handed back for another reset. Why the hash first: it is the slow part, and must not
    /// hold the database's write lock (SQLite serialises writers). Why the notices after the commit: they tell of a
    /// reset that happened, and <c>Sms/</c> refuses to send inside a transaction.
    /// </remarks>
    public async Task<bool> FinishAsync(long uid, string password, string channel, Func<CancellationToken, Task<bool>> consume, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(consume);
        var prepared = await credentials.PrepareAsync(password, null, null, cancellationToken);
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            // Why: a deletion erases the member's credentials but an auth_reset_token issued before it is a verify token
            // that outlives it; without this the reset wrote a password hash onto the tombstone and texted "your password
            // was reset" to a phone the member had left. Locking the live row first also orders this transaction against
            // a concurrent deletion: whichever commits second sees the other's outcome (here: no live member, nothing written).
            if (!await LiveMembers.LockAsync(db, uid, cancellationToken) || !await consume(cancellationToken))
            {
                return false;
            }

            await credentials.SaveAsync(uid, prepared, cancellationToken);
            await credentials.EndOtherSessionsAsync(uid, keepSessionId: null, cancellationToken);
            await failures.ResetAsync(uid, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        await NotifyAsync(uid, channel, cancellationToken);
        return true;
    }

    private async Task NotifyAsync(long uid, string channel, CancellationToken cancellationToken)
    {
        var who = await (
                from m in db.Members.AsNoTracking()
                join a in db.Accounts on m.AccountId equals a.Id
                where m.Uid == uid
                select new { m.DisplayName, m.Email, m.EmailVerified, m.Locale, a.PhoneE164 })
            .FirstAsync(cancellationToken);
        // Why: the password is already changed; a notice that cannot go out is reported in the log rather than failing a
        // reset that happened (the client would retry with a used token).
        if (who.EmailVerified && who.Email is { } email)
        {
            await notices.SendAsync(uid, email, who.DisplayName, who.Locale, EmailKind.PasswordReset, cancellationToken);
        }

        if (channel == ResetChannels.Phone && phones.FromE164(who.PhoneE164) is { } phone)
        {
            var text = who.Locale == Locales.TraditionalChinese
                ? "【Pan】您的密碼剛剛已重設。若這不是您本人的操作，請立即聯絡客服。"
                : "[Pan] Your password was just reset. If this was not you, contact support at once.";
            try
            {
                var sent = await sms.SendAsync(phone, text, SmsPurpose.Reset, null, cancellationToken);
                if (!sent.Sent)
                {
                    logger.LogWarning("The password-reset SMS notice of member {Uid} was blocked: {Reason}", uid, sent.Blocked);
                }
            }
            catch (DependencyUnavailableException ex)
            {
                logger.LogError(ex, "Could not text the password-reset notice of member {Uid}", uid);
            }
        }
    }
}
