namespace Pan.Data.Passkeys;

/// <summary>One passkey (a WebAuthn discoverable credential) of a member: what a sign-in needs to check its assertions.</summary>
public sealed class MemberPasskey
{
    public long Id { get; set; }

    /// <summary>The member it signs in.</summary>
    public long Uid { get; set; }

    /// <summary>The credential id the authenticator chose (unique across Pan); its base64url text is the passkey's public id.</summary>
    public required byte[] CredentialId { get; set; }

    /// <summary>The credential's public key as a COSE key.</summary>
    public required byte[] PublicKey { get; set; }

    /// <summary>The authenticator's signature counter as last seen (0 for authenticators that keep none).</summary>
    public long SignCount { get; set; }

    /// <summary>The authenticator model, as the authenticator gave it (zeros for most under attestation "none").</summary>
    public Guid Aaguid { get; set; }

    /// <summary>The member's name for it.</summary>
    public required string Name { get; set; }

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset? LastUsed { get; set; }
}

/// <summary>
/// The WebAuthn user handle of a member: random, made at its first passkey registration and kept, so authenticators
/// never learn the uid.
/// </summary>
public sealed class PasskeyUser
{
    public long Uid { get; set; }

    public required byte[] UserHandle { get; set; }
}

/// <summary>
/// One begun passkey ceremony (a registration or a sign-in): the options sent to the client, whose challenge the
/// finish checks. Stored by the hash of its opaque id, single use, minutes.
/// </summary>
public sealed class PasskeyChallenge
{
    public const string Registration = "register";
    public const string SignIn = "sign-in";

    /// <summary>SHA-256 of the opaque registration_id / sign_in_id text.</summary>
    public required byte[] Hash { get; set; }

    /// <summary><see cref="Registration"/> or <see cref="SignIn"/>.</summary>
    public required string Kind { get; set; }

    /// <summary>The member a registration is for; null for a sign-in.</summary>
    public long? Uid { get; set; }

    /// <summary>The options as sent (the library's JSON), challenge included.</summary>
    public required string OptionsJson { get; set; }

    public DateTimeOffset Expires { get; set; }
}
