namespace Pan.Data.Omniauth;

/// <summary>
/// A refresh token of the social-login API. Only its SHA-256 hash is stored. One sign-in opens an auth session (the
/// token family); each refresh spends the presented token (<see cref="UsedAt"/>) and issues the next one in the same
/// session, so presenting a spent token again is reuse and ends the whole family.
/// </summary>
public sealed class OmniauthRefreshToken
{
    /// <summary>SHA-256 of the token text (32 bytes).</summary>
    public byte[] Hash { get; set; } = [];

    /// <summary>The auth session (family) the token belongs to; revoking it kills every token of the family.</summary>
    public long SessionId { get; set; }

    public long Uid { get; set; }

    /// <summary>The client (a registered app id) the token was issued to; only that client may spend it.</summary>
    public string AppId { get; set; } = string.Empty;

    /// <summary>The member's token generation at issue; a bump (password change, deletion) kills the token.</summary>
    public long TokenGeneration { get; set; }

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset Expires { get; set; }

    /// <summary>
    /// The provider whose identity signed the family in (copied to each rotated token), so unlinking that identity ends
    /// its families only; null for tokens issued before it was recorded (an unlink of any provider ends those).
    /// </summary>
    public string? Provider { get; set; }

    /// <summary>Set when the token was spent on a refresh; null while it is the family's current token.</summary>
    public DateTimeOffset? UsedAt { get; set; }
}
