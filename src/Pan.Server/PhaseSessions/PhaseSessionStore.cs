using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.PhaseSessions;
using Pan.Server.Data;
using Pan.Server.Deletion;
using Pan.Server.Phones;

namespace Pan.Server.PhaseSessions;

/// <summary>How a submitted code was judged.</summary>
public enum CodeCheck
{
    Accepted,

    /// <summary>Compared and wrong; the code stays alive.</summary>
    Wrong,

    /// <summary>Compared and wrong, and it was the code's last allowed try: the code is dead from now on.</summary>
    Killed,

    /// <summary>The code was already dead (too many wrong tries); nothing was compared.</summary>
    Dead,
    Expired,
    NoCode,
    AlreadyUsed,
}

/// <summary>What a <see cref="CodeCheck"/> means for the member's failure counter.</summary>
public static class CodeChecks
{
    /// <summary>
    /// Whether the submission was a guess at a live code, the only kind the member's failure counter takes (SECURITY
    /// 10). Why not the others: a dead, expired, spent or missing code compares nothing, so counting it would only
    /// let anyone holding a flow's token push the member towards a lock without the SMS caps limiting how often
    /// (each code allows 5 guesses, and each new code is a capped send); a right code that lost a race to its twin
    /// (AlreadyUsed) is not a guess at all.
    /// </summary>
    public static bool IsGuess(this CodeCheck check) => check is CodeCheck.Wrong or CodeCheck.Killed;
}

/// <summary>A new code to send, or why none may be sent now.</summary>
/// <param name="MemberGone">The session's member is deleted: no code, and the session is gone too.</param>
public sealed record CodeIssue(string? Code, int CooldownSeconds, bool SessionExhausted, bool MemberGone = false)
{
    public bool Issued => Code is not null;
}

/// <summary>
/// Phase sessions and their one-time codes, kept in the database. Codes are 6 CSPRNG digits stored as salted SHA-256,
/// expire within 10 minutes, die after 5 wrong tries, and are accepted once: acceptance, wrong-try counting and
/// resending are single conditional UPDATEs, so concurrent submissions on any node cannot both win.
/// </summary>
public sealed class PhaseSessionStore(PanDbContext db, TimeProvider clock, IOptions<PhaseSessionOptions> options, Metrics.PanMetrics metrics)
{
    // Why compiled: every step of every phased flow looks its session up by token; a compiled query skips rebuilding
    // the LINQ expression and matching it against EF Core's query cache. One per model (one per provider), as in TokenService.
    private static readonly ConditionalWeakTable<IModel, Func<PanDbContext, byte[], CancellationToken, Task<PhaseSession?>>> ByTokenQueries = new();

    private PhaseSessionOptions Options => options.Value;

    /// <summary>Seconds after a code is sent before the flow may send another.</summary>
    public int ResendCooldownSeconds => Options.ResendCooldownSeconds;

    /// <summary>Minutes a code stays valid after it is sent.</summary>
    public int CodeMinutes => Options.CodeMinutes;

    /// <summary>Codes one flow may send.</summary>
    public int MaxCodesPerSession => Options.MaxCodesPerSession;

    /// <summary>Starts a flow; returns the stored session and the token to hand to the client (shown once).</summary>
    public async Task<(PhaseSession Session, string Token)> StartAsync(
        string purpose, PhoneNumber? phone, long? uid, string? clientIp, CancellationToken cancellationToken)
    {
        var (session, token, _) = await StartAsync(purpose, phone, uid, clientIp, captchaRequired: false, withCode: false, cancellationToken);
        return (session, token);
    }

    /// <summary>
    /// Starts a flow in one INSERT: already waiting for its captcha when <paramref name="captchaRequired"/>, or already
    /// holding its first code when <paramref name="withCode"/> (returned once, as <see cref="IssueCodeAsync"/> would
    /// return it for a new session: a new session has sent nothing and has no cool-down running). Rows the request has
    /// staged on its context (an SMS log reservation, <see cref="Sms.SmsGate.ReserveAsync{T}"/>) are saved in the same commit.
    /// </summary>
    public async Task<(PhaseSession Session, string Token, string? Code)> StartAsync(
        string purpose, PhoneNumber? phone, long? uid, string? clientIp, bool captchaRequired, bool withCode, CancellationToken cancellationToken)
    {
        var token = NewToken();
        var now = clock.GetUtcNow();
        var session = new PhaseSession
        {
            TokenHash = Hash(token),
            Purpose = purpose,
            PhoneE164 = phone?.E164,
            PhoneCountryCode = phone?.CountryCode ?? 0,
            Uid = uid,
            Created = now,
            Expires = now.AddMinutes(Options.SessionMinutes),
            ClientIp = clientIp,
            CaptchaRequired = captchaRequired,
        };
        string? code = null;
        if (withCode)
        {
            code = NewCode();
            session.CodeSalt = RandomNumberGenerator.GetBytes(16);
            session.CodeHash = HashCode(session.CodeSalt, code);
            session.CodeSentAt = now;
            session.CodeExpires = now.AddMinutes(Options.CodeMinutes);
            session.CodesSent = 1;
        }

        db.Set<PhaseSession>().Add(session);
        await db.SaveChangesAsync(cancellationToken);
        // Why: the caller keeps the returned object; the context need not track it (later changes are ExecuteUpdates).
        db.Entry(session).State = EntityState.Detached;
        return (session, token, code);
    }

    /// <summary>The live session behind <paramref name="token"/> for <paramref name="purpose"/>, or null (unknown, expired, other flow).</summary>
    public async Task<PhaseSession?> FindAsync(string? token, string purpose, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 128)
        {
            return null;
        }

        return Live(await ByTokenAsync(token, cancellationToken), purpose);
    }

    /// <summary>
    /// The hash a session's token is stored under, or null for a token no session can have (empty or too long); for
    /// callers that read the session together with other rows, then pass it to <see cref="Live"/>.
    /// </summary>
    public static byte[]? TokenHashOf(string? token) => string.IsNullOrEmpty(token) || token.Length > 128 ? null : Hash(token);

    /// <summary><paramref name="session"/> when it is live and of <paramref name="purpose"/>, else null (as <see cref="FindAsync"/> judges).</summary>
    public PhaseSession? Live(PhaseSession? session, string purpose) =>
        session is not null && session.Purpose == purpose && session.Expires > clock.GetUtcNow() ? session : null;

    /// <summary>The live session behind <paramref name="token"/> whatever its flow (UnlockSessionToken serves every flow).</summary>
    public async Task<PhaseSession?> FindAnyAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 128)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        var session = await ByTokenAsync(token, cancellationToken);
        return session is not null && session.Expires > now ? session : null;
    }

    /// <summary>
    /// The newest live session of a member for <paramref name="purpose"/>, finished or not (flows with no client token:
    /// step-up, reset by phone). Callers treat a finished one as holding no code.
    /// </summary>
    /// <remarks>
    /// Why finished sessions are not skipped: only the newest flow's code may be used. Skipping them made an older flow
    /// of the member the newest again once the newer one finished, and brought back its code, which the newer request
    /// had killed (SECURITY 7): a reset by phone gave a second auth_reset_token for the first of two texted codes.
    /// </remarks>
    public async Task<PhaseSession?> FindLatestAsync(long uid, string purpose, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return await db.Set<PhaseSession>().AsNoTracking()
            .Where(s => s.Uid == uid && s.Purpose == purpose && s.Expires > now)
            .OrderByDescending(s => s.Id)
            .FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>Seconds until a new code may be sent (0 when one may be sent now).</summary>
    public int CooldownRemaining(PhaseSession session)
    {
        if (session.CodeSentAt is not { } sent)
        {
            return 0;
        }

        var left = sent.AddSeconds(Options.ResendCooldownSeconds) - clock.GetUtcNow();
        return left <= TimeSpan.Zero ? 0 : (int)Math.Ceiling(left.TotalSeconds);
    }

    /// <summary>
    /// Makes a new code for the session, killing any previous one, unless the cool-down is running or the session has
    /// sent its maximum. Only one of several concurrent callers gets a code. A session of a member takes the member's
    /// row first (<see cref="LiveMembers.LockAsync"/>); when the member is deleted no code is made, the session is
    /// removed and the result is <see cref="CodeIssue.MemberGone"/>.
    /// </summary>
    /// <remarks>
    /// Why: the flow found its member before this step; a deletion committed since (or, on PostgreSQL, not yet
    /// committed then) removed the member's sessions but not one started after it looked, which would otherwise get a
    /// code and have it sent to the deleted member's phone or address.
    /// </remarks>
    public async Task<CodeIssue> IssueCodeAsync(PhaseSession session, CancellationToken cancellationToken)
    {
        if (session.Uid is not { } uid)
        {
            return await WriteCodeAsync(session, cancellationToken);
        }

        await using (var transaction = await JoinedTransaction.BeginAsync(db, cancellationToken))
        {
            if (await LiveMembers.LockAsync(db, uid, cancellationToken))
            {
                var issue = await WriteCodeAsync(session, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return issue;
            }
        }

        await db.Set<PhaseSession>().Where(s => s.Id == session.Id).ExecuteDeleteAsync(cancellationToken);
        return new CodeIssue(null, 0, SessionExhausted: false, MemberGone: true);
    }

    private async Task<CodeIssue> WriteCodeAsync(PhaseSession session, CancellationToken cancellationToken)
    {
        if (session.CodesSent >= Options.MaxCodesPerSession)
        {
            return new CodeIssue(null, CooldownRemaining(session), SessionExhausted: true);
        }

        var cooldown = CooldownRemaining(session);
        if (cooldown > 0)
        {
            return new CodeIssue(null, cooldown, SessionExhausted: false);
        }

        var code = NewCode();
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = HashCode(salt, code);
        var now = clock.GetUtcNow();
        var readyBefore = now.AddSeconds(-Options.ResendCooldownSeconds);
        var expires = now.AddMinutes(Options.CodeMinutes);
        var sentBefore = session.CodesSent;
        var updated = await db.Set<PhaseSession>()
            .Where(s => s.Id == session.Id && s.CodesSent == sentBefore && (s.CodeSentAt == null || s.CodeSentAt <= readyBefore))
            .ExecuteUpdateAsync(u => u
                .SetProperty(s => s.CodeHash, hash)
                .SetProperty(s => s.CodeSalt, salt)
                .SetProperty(s => s.CodeSentAt, now)
                .SetProperty(s => s.CodeExpires, expires)
                .SetProperty(s => s.CodeAttempts, 0)
                .SetProperty(s => s.CodeVerifiedAt, (DateTimeOffset?)null)
                .SetProperty(s => s.CodesSent, sentBefore + 1), cancellationToken);
        if (updated == 0)
        {
            // Another request sent a code in the meantime.
            var fresh = await db.Set<PhaseSession>().AsNoTracking().FirstAsync(s => s.Id == session.Id, cancellationToken);
            return new CodeIssue(null, Math.Max(1, CooldownRemaining(fresh)), fresh.CodesSent >= Options.MaxCodesPerSession);
        }

        session.CodeHash = hash;
        session.CodeSalt = salt;
        session.CodeSentAt = now;
        session.CodeExpires = expires;
        session.CodeAttempts = 0;
        session.CodeVerifiedAt = null;
        session.CodesSent = sentBefore + 1;
        return new CodeIssue(code, Options.ResendCooldownSeconds, SessionExhausted: false);
    }

    /// <summary>
    /// Judges a submitted code. A correct code is accepted once; the wrong one counts toward the limit.
    /// <paramref name="session"/> must have been read in this request (<see cref="FindAsync"/>, <see cref="FindLatestAsync"/>):
    /// its code state is judged as read, and every outcome that changes the row is a conditional UPDATE, so a
    /// concurrent submission or resend cannot make two acceptances (a stale read only makes this request lose).
    /// When <paramref name="complete"/>, acceptance also finishes the flow (as <see cref="CompleteAsync"/>) in the
    /// same UPDATE, and <paramref name="phase"/>, when given, is stored with it (as <see cref="SetPhaseAsync"/>).
    /// </summary>
    public async Task<CodeCheck> VerifyCodeAsync(
        PhaseSession session, string? code, CancellationToken cancellationToken, bool complete = false, int? phase = null)
    {
        var check = await CheckCodeAsync(session, code, complete, phase, cancellationToken);
        if (check == CodeCheck.Accepted)
        {
            // Why once committed: the caller's transaction (opening the session, finishing the flow) may still roll the
            // acceptance back, and the code then stays unused.
            metrics.WhenCommitted(db, m => m.CodeVerification("accepted"));
            return check;
        }

        metrics.CodeVerification(check switch
        {
            CodeCheck.Wrong => "wrong",
            CodeCheck.Killed => "wrong_last_try",
            CodeCheck.Dead => "dead",
            CodeCheck.Expired => "expired",
            CodeCheck.AlreadyUsed => "already_used",
            _ => "no_code",
        });
        return check;
    }

    /// <summary>
    /// What a check of <paramref name="session"/>'s code answers whatever code is typed (no code sent, already used, dead,
    /// expired), as <see cref="VerifyCodeAsync"/> would; null while the code is live and only the code decides. For a
    /// caller that refuses the code unseen (a member the failure counter holds): its answer then stays the one any
    /// member gets, so it tells nothing of the lock.
    /// </summary>
    public CodeCheck? VerdictWithoutTheCode(PhaseSession session) =>
        session.CodeHash is null || session.CodeSalt is null ? CodeCheck.NoCode
        : session.CodeVerifiedAt is not null ? CodeCheck.AlreadyUsed
        : session.CodeAttempts >= Options.MaxAttempts ? CodeCheck.Dead
        : session.CodeExpires <= clock.GetUtcNow() ? CodeCheck.Expired
        : null;

    private async Task<CodeCheck> CheckCodeAsync(PhaseSession session, string? code, bool complete, int? phase, CancellationToken cancellationToken)
    {
        if (VerdictWithoutTheCode(session) is { } verdict)
        {
            return verdict;
        }

        var storedHash = session.CodeHash!;
        var salt = session.CodeSalt!;
        var now = clock.GetUtcNow();
        var max = Options.MaxAttempts;
        if (Matches(salt, storedHash, code))
        {
            var accepting = db.Set<PhaseSession>()
                .Where(s => s.Id == session.Id && s.CodeHash == storedHash && s.CodeVerifiedAt == null && s.CodeAttempts < max);
            if (complete)
            {
                accepting = accepting.Where(s => s.CompletedAt == null);
            }

            var won = await accepting.ExecuteUpdateAsync(u =>
            {
                u.SetProperty(s => s.CodeVerifiedAt, now);
                if (complete)
                {
                    u.SetProperty(s => s.CompletedAt, now);
                }

                if (phase is { } newPhase)
                {
                    u.SetProperty(s => s.Phase, newPhase);
                }
            }, cancellationToken);
            if (won == 1)
            {
                session.CodeVerifiedAt = now;
                session.CompletedAt = complete ? now : session.CompletedAt;
                session.Phase = phase ?? session.Phase;
                return CodeCheck.Accepted;
            }

            return CodeCheck.AlreadyUsed;
        }

        await db.Set<PhaseSession>()
            .Where(s => s.Id == session.Id && s.CodeHash == storedHash)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.CodeAttempts, s => s.CodeAttempts + 1), cancellationToken);
        return session.CodeAttempts + 1 >= max ? CodeCheck.Killed : CodeCheck.Wrong;
    }

    /// <summary>
    /// Whether <paramref name="code"/> is the code this session already accepted while its flow is not finished: a flow
    /// whose finishing step was refused or failed after the code was accepted (e.g. the phone filled up meanwhile) may
    /// send the same request again. Counts no try and changes nothing; any other code is not "accepted".
    /// </summary>
    public static bool IsAcceptedCode(PhaseSession session, string? code) =>
        session.CodeVerifiedAt is not null && session.CompletedAt is null
        && session.CodeHash is { } storedHash && session.CodeSalt is { } salt
        && Matches(salt, storedHash, code);

    /// <summary>
    /// Whether the flow is held until its captcha passes: only while it has sent no code yet (the captcha a flow's
    /// first send, or telling whether a phone or email has an account, waits for). Why not a flow that has sent codes:
    /// its pending captcha is for a refused resend (captcha mode risk, <see cref="PhoneCodeSender.SendOrThrowAsync"/>),
    /// and a captcha pays for a send, not for typing the code already texted, which is still live and still guarded by
    /// its 5 tries and the failure counter. The resend itself keeps waiting (<see cref="PhoneCodeSender.SendAsync"/>).
    /// </summary>
    public static bool HeldForCaptcha(PhaseSession session) =>
        session.CaptchaRequired && !session.CaptchaPassed && session.CodesSent == 0;

    /// <summary>Whether <paramref name="code"/> (six ASCII digits, else never) hashes to <paramref name="storedHash"/>, in constant time.</summary>
    private static bool Matches(byte[] salt, byte[] storedHash, string? code) =>
        CryptographicOperations.FixedTimeEquals(code is { Length: 6 } && code.All(char.IsAsciiDigit) ? HashCode(salt, code) : new byte[32], storedHash);

    /// <summary>Records captcha state on the session.</summary>
    public Task SetCaptchaAsync(PhaseSession session, bool required, bool passed, CancellationToken cancellationToken)
    {
        session.CaptchaRequired = required;
        session.CaptchaPassed = passed;
        return db.Set<PhaseSession>().Where(s => s.Id == session.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.CaptchaRequired, required).SetProperty(s => s.CaptchaPassed, passed), cancellationToken);
    }

    /// <summary>Moves the session to <paramref name="phase"/> and binds it to <paramref name="uid"/> when given.</summary>
    public Task SetPhaseAsync(PhaseSession session, int phase, long? uid, CancellationToken cancellationToken)
    {
        session.Phase = phase;
        session.Uid = uid ?? session.Uid;
        var newUid = session.Uid;
        return db.Set<PhaseSession>().Where(s => s.Id == session.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.Phase, phase).SetProperty(s => s.Uid, newUid), cancellationToken);
    }

    /// <summary>Marks the flow finished. True for exactly one caller; a finished flow cannot be replayed.</summary>
    public async Task<bool> CompleteAsync(PhaseSession session, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var done = await db.Set<PhaseSession>()
            .Where(s => s.Id == session.Id && s.CompletedAt == null && s.CodeVerifiedAt != null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.CompletedAt, now), cancellationToken);
        return done == 1;
    }

    /// <summary>Deletes sessions that expired more than a day ago.</summary>
    public Task<int> PurgeExpiredAsync(CancellationToken cancellationToken)
    {
        var cutoff = clock.GetUtcNow().AddDays(-1);
        return db.Set<PhaseSession>().Where(s => s.Expires < cutoff).ExecuteDeleteAsync(cancellationToken);
    }

    private Task<PhaseSession?> ByTokenAsync(string token, CancellationToken cancellationToken)
    {
        var query = ByTokenQueries.GetValue(db.Model, _ => EF.CompileAsyncQuery(
            (PanDbContext context, byte[] hash, CancellationToken _) => context.Set<PhaseSession>().AsNoTracking().FirstOrDefault(s => s.TokenHash == hash)));
        return query(db, Hash(token), cancellationToken);
    }

    private static string NewCode() =>
        RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

    private static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(32));

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private static byte[] HashCode(byte[] salt, string code)
    {
        Span<byte> input = stackalloc byte[salt.Length + code.Length];
        salt.CopyTo(input);
        Encoding.ASCII.GetBytes(code, input[salt.Length..]);
        return SHA256.HashData(input);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
