using System.Diagnostics.Metrics;

namespace Pan.Server.Metrics;

/// <summary>
/// Pan's own instruments, one <see cref="Meter"/> named <c>Pan</c> (README "Metrics" lists them with their labels).
/// Every label value is one of a fixed set of words chosen in code (a method, an outcome, a kind); never a phone number,
/// email, uid, token, address or text an app or a member supplied (SECURITY 16).
/// </summary>
/// <remarks>
/// Why cheap enough for every request: with the metrics listener off nothing listens to the meter, and an
/// instrument's Add only finds it has no subscriber; with it on, Add updates an in-memory counter for the label set.
/// No instrument reads the database or takes a lock of Pan's.
/// </remarks>
public sealed class PanMetrics
{
    public const string MeterName = "Pan";

    private readonly Counter<long> signIns;
    private readonly Counter<long> smsSends;
    private readonly Counter<long> emailSends;
    private readonly Counter<long> codeVerifications;
    private readonly Counter<long> accountLocks;
    private readonly Counter<long> tokensIssued;
    private readonly Counter<long> accessTokenChecks;
    private readonly Counter<long> appEventDeliveries;
    private readonly Counter<long> captchaChecks;
    private readonly Counter<long> registrations;
    private readonly Counter<long> deletions;
    private readonly Counter<long> passwordHashes;
    private readonly Counter<long> consents;
    private readonly Counter<long> lookupsRefused;

    public PanMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        signIns = meter.CreateCounter<long>("pan.sign_ins", "{sign-in}", "Sign-in attempts that reached a decision, by method and outcome.");
        smsSends = meter.CreateCounter<long>("pan.sms.sends", "{message}", "SMS codes asked for, by outcome, the cap that refused one, and provider.");
        emailSends = meter.CreateCounter<long>("pan.email.sends", "{message}", "Mails handed to the mail transport, and mails Pan's caps refused, by outcome and cap.");
        codeVerifications = meter.CreateCounter<long>("pan.codes.verifications", "{check}", "One-time code checks, by outcome.");
        accountLocks = meter.CreateCounter<long>("pan.account.locks", "{lock}", "Members locked after too many failed sign-in tries.");
        tokensIssued = meter.CreateCounter<long>("pan.tokens.issued", "{token}", "Tokens issued, by kind.");
        accessTokenChecks = meter.CreateCounter<long>("pan.access_token.validations", "{check}", "Access-token checks, by outcome and whether the node's cache answered.");
        appEventDeliveries = meter.CreateCounter<long>("pan.app_events.deliveries", "{delivery}", "App event delivery attempts, by outcome.");
        captchaChecks = meter.CreateCounter<long>("pan.captcha.checks", "{check}", "Captcha token checks, by outcome.");
        registrations = meter.CreateCounter<long>("pan.registrations", "{registration}", "New accounts and members, by kind.");
        deletions = meter.CreateCounter<long>("pan.deletions", "{deletion}", "Members and accounts deleted, by kind.");
        passwordHashes = meter.CreateCounter<long>("pan.password.hashes", "{hash}",
            "Argon2id computations for passwords and security answers, by use: store (a new hash), check (against a stored hash), dummy (the same work where there is no hash to check).");
        lookupsRefused = meter.CreateCounter<long>("pan.lookups.refused", "{lookup}",
            "Look-ups of whether a phone, guest account name or email has an account, refused by their per-address caps, by kind.");
        consents = meter.CreateCounter<long>("pan.oauth.consents", "{decision}", "OAuth consent decisions put into effect at /connect/authorize, by decision and way.");
    }

    /// <summary>Whether anything listens to Pan's meter (false with the metrics listener off).</summary>
    public bool IsObserved => signIns.Enabled;

    /// <summary>A sign-in attempt decided: <paramref name="method"/> is a <see cref="SignInMethods"/> word, <paramref name="outcome"/> a <see cref="SignInOutcomes"/> one.</summary>
    public void SignIn(string method, string outcome) =>
        signIns.Add(1, new KeyValuePair<string, object?>("method", method), new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>An SMS code asked for: <paramref name="cap"/> names the cap that refused it (<c>none</c> otherwise).</summary>
    public void SmsSend(string outcome, string cap, string provider) =>
        smsSends.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("cap", cap),
            new KeyValuePair<string, object?>("provider", provider));

    /// <summary>A mail handed to the transport (<c>sent</c>, <c>failed</c>), or refused by the cap <paramref name="cap"/> (<c>capped</c>).</summary>
    public void EmailSend(string outcome, string cap = "none") =>
        emailSends.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("cap", cap));

    public void CodeVerification(string outcome) => codeVerifications.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void AccountLock() => accountLocks.Add(1);

    public void TokenIssued(string kind) => tokensIssued.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void AccessTokenCheck(string outcome, string cache) =>
        accessTokenChecks.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("cache", cache));

    public void AppEventDelivery(string outcome) => appEventDeliveries.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void CaptchaCheck(string outcome) => captchaChecks.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Registration(string kind) => registrations.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void Deletion(string kind) => deletions.Add(1, new KeyValuePair<string, object?>("kind", kind));

    /// <summary>One Argon2id computation done: <paramref name="use"/> is a <see cref="PasswordHashUses"/> word.</summary>
    public void PasswordHash(string use) => passwordHashes.Add(1, new KeyValuePair<string, object?>("use", use));

    /// <summary>An OAuth consent decision put into effect: <paramref name="decision"/> <c>approved</c>, <c>denied</c> or <c>remembered</c>; <paramref name="via"/> <c>browser</c> or <c>grpc</c>.</summary>
    public void ConsentDecision(string decision, string via) =>
        consents.Add(1, new KeyValuePair<string, object?>("decision", decision), new KeyValuePair<string, object?>("via", via));

    /// <summary>
    /// A look-up refused by its per-address cap: <paramref name="kind"/> <c>phone</c> (<c>Pan:PhoneLookups:PerIpPerHour</c>),
    /// <c>guest_name</c> (<c>Pan:Guests:NameLookupsPerIpPerHour</c>) or <c>email</c> (<c>Pan:Email:Limits:LookupsPerIpPerHour</c>).
    /// Why counted at once: the refusal writes nothing of its own to wait for (the caps count in their own statements).
    /// </summary>
    public void LookupRefused(string kind) => lookupsRefused.Add(1, new KeyValuePair<string, object?>("kind", kind));

    /// <summary>
    /// Runs <paramref name="count"/> (a call of this class's) now when <paramref name="db"/> has no transaction, else once
    /// that transaction commits; a rollback drops it. For the counters that say something succeeded.
    /// </summary>
    public void WhenCommitted(Microsoft.EntityFrameworkCore.DbContext db, Action<PanMetrics> count) => CommittedCounts.Run(db, () => count(this));

    /// <summary>
    /// Runs <paramref name="count"/> once <paramref name="entity"/>, a row staged on <paramref name="db"/> and not yet
    /// saved, is stored by a save, and when that save runs in a transaction once it commits: for a success whose row the
    /// caller saves later, perhaps outside a transaction (a failed save counts nothing).
    /// </summary>
    public void WhenSaved(Microsoft.EntityFrameworkCore.DbContext db, object entity, Action<PanMetrics> count) => CommittedCounts.WhenSaved(db, entity, () => count(this));
}

/// <summary>The <c>method</c> label of <c>pan.sign_ins</c>.</summary>
public static class SignInMethods
{
    public const string Phone = "phone";
    public const string Password = "password";
    public const string EmailCode = "email_code";
    public const string Social = "social";
    public const string HandOff = "hand_off";
    public const string Guest = "guest";
    public const string OAuth = "oauth";
    public const string Passkey = "passkey";
}

/// <summary>The <c>outcome</c> label of <c>pan.sign_ins</c>.</summary>
public static class SignInOutcomes
{
    public const string Ok = "ok";
    public const string Wrong = "wrong";
    public const string Locked = "locked";
    public const string Suspended = "suspended";
    public const string NoMember = "no_member";
}

/// <summary>The <c>use</c> label of <c>pan.password.hashes</c>.</summary>
public static class PasswordHashUses
{
    public const string Store = "store";
    public const string Check = "check";
    public const string Dummy = "dummy";
}
