namespace Pan.Data.PhaseSessions;

/// <summary>
/// The server-side state of a phased flow (register, login, phone validation, step-up verification): which phone or
/// member it is bound to, whether its captcha was passed, and its one-time code. Every step reads and writes it here,
/// so any node can serve any step.
/// </summary>
public sealed class PhaseSession
{
    public long Id { get; set; }

    /// <summary>SHA-256 of the opaque <c>phase_session_token</c> handed to the client (the token itself is never stored).</summary>
    public byte[] TokenHash { get; set; } = [];

    /// <summary>What the flow is for: register, login, validate-phone, verify-phone, … (see PhasePurposes).</summary>
    public string Purpose { get; set; } = string.Empty;

    public string? PhoneE164 { get; set; }

    public int PhoneCountryCode { get; set; }

    /// <summary>The member the flow acts for (step-up, validate-phone) or signs in (login); null for registration.</summary>
    public long? Uid { get; set; }

    /// <summary>The last phase the client completed (the seed's Phase number of the flow's own enum).</summary>
    public int Phase { get; set; }

    public bool CaptchaRequired { get; set; }

    public bool CaptchaPassed { get; set; }

    /// <summary>SHA-256(salt ‖ code) of the current one-time code; null when none was sent yet.</summary>
    public byte[]? CodeHash { get; set; }

    public byte[]? CodeSalt { get; set; }

    public DateTimeOffset? CodeSentAt { get; set; }

    public DateTimeOffset? CodeExpires { get; set; }

    /// <summary>Wrong submissions of the current code; at the limit the code is dead.</summary>
    public int CodeAttempts { get; set; }

    /// <summary>Codes sent in this session (the first and every resend).</summary>
    public int CodesSent { get; set; }

    /// <summary>When the current code was accepted (single use: set once, by one conditional update).</summary>
    public DateTimeOffset? CodeVerifiedAt { get; set; }

    /// <summary>When the flow finished (auth token issued, member created); a finished session cannot be replayed.</summary>
    public DateTimeOffset? CompletedAt { get; set; }

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset Expires { get; set; }

    public string? ClientIp { get; set; }
}
