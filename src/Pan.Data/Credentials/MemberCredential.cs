namespace Pan.Data.Credentials;

/// <summary>
/// A member's secrets, one row per member that has set any (kept out of <c>members</c> so profile reads never carry
/// them). Hashes are self-describing strings: Argon2id (<c>$argon2id$v=19$m=…,t=…,p=1$salt$hash</c>) or, for members
/// imported from the legacy stores until their next sign-in, <c>pbkdf2-sha1$…</c> / <c>md5md5$…</c>.
/// </summary>
public sealed class MemberCredential
{
    /// <summary>The member (primary key, references members.uid).</summary>
    public long Uid { get; set; }

    /// <summary>The password hash; null while the member has no password.</summary>
    public string? PasswordHash { get; set; }

    /// <summary>When the password was last set (null while there is none).</summary>
    public DateTimeOffset? PasswordChanged { get; set; }

    /// <summary>The security question as the member wrote it (shown back to the member); null while none is set.</summary>
    public string? SecurityQuestion { get; set; }

    /// <summary>Argon2id hash of the normalised answer (trimmed, NFKC, case-folded).</summary>
    public string? SecurityAnswerHash { get; set; }

    /// <summary>When the security question was last set.</summary>
    public DateTimeOffset? SecurityQuestionChanged { get; set; }
}
