using Microsoft.Extensions.Options;

namespace Pan.Server.Keys;

/// <summary>
/// <c>Pan:Keys:*</c>: the key-encryption key that wraps every key Pan stores in the database (auth-token signing keys,
/// OAuth keys, the Data Protection key ring). Unset in Production stops the server; elsewhere keys are stored unwrapped.
/// </summary>
public sealed class KeyEncryptionOptions
{
    public const string Section = "Pan:Keys";

    /// <summary>The setting's full name, as used in every message about it.</summary>
    public const string EncryptionKeySetting = "Pan:Keys:EncryptionKey";

    public const string PreviousKeysSetting = "Pan:Keys:PreviousEncryptionKeys";

    public const string NextKeySetting = "Pan:Keys:NextEncryptionKey";

    /// <summary>Base64 of 32 random bytes (<c>openssl rand -base64 32</c>); wraps new keys and re-wraps old rows at start-up.</summary>
    public string? EncryptionKey { get; set; }

    /// <summary>Base64 keys used before <see cref="EncryptionKey"/>: only read, to unwrap rows not yet re-wrapped.</summary>
    public List<string> PreviousEncryptionKeys { get; set; } = [];

    /// <summary>
    /// Base64 key that a rotation is about to make current (step 1 of README's rotation): read, never used to re-wrap,
    /// and used to wrap new keys only once some row in the database is wrapped with it (step 2 has begun elsewhere).
    /// </summary>
    public string? NextEncryptionKey { get; set; }

    /// <summary>The decoded current key, or null when unset or invalid (the validator reports invalid values).</summary>
    internal byte[]? Current => Decode(EncryptionKey);

    internal IEnumerable<byte[]> Previous => PreviousEncryptionKeys.Select(Decode).OfType<byte[]>();

    internal byte[]? Next => Decode(NextEncryptionKey);

    /// <summary>32 bytes from base64, or null when <paramref name="value"/> is empty, not base64 or not 32 bytes.</summary>
    internal static byte[]? Decode(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var buffer = new byte[KeyEnvelope.KeyBytes + 3];
        return Convert.TryFromBase64String(value.Trim(), buffer, out var written) && written == KeyEnvelope.KeyBytes
            ? buffer[..written]
            : null;
    }
}

/// <summary>
/// Checks the keys' form (base64 of exactly 32 bytes) and fails closed: without <c>Pan:Keys:EncryptionKey</c> a
/// Production server does not start. Messages name the setting, never the value.
/// </summary>
internal sealed class KeyEncryptionOptionsValidator(IHostEnvironment environment) : IValidateOptions<KeyEncryptionOptions>
{
    public const string HowToMakeOne = "Make one with `openssl rand -base64 32` and keep it in a secret store, not in the database or the repository.";

    public ValidateOptionsResult Validate(string? name, KeyEncryptionOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.EncryptionKey))
        {
            if (environment.IsProduction())
            {
                failures.Add($"{KeyEncryptionOptions.EncryptionKeySetting} is required in Production: it encrypts the signing and encryption keys stored in the database. {HowToMakeOne}");
            }
        }
        else if (options.Current is null)
        {
            failures.Add($"{KeyEncryptionOptions.EncryptionKeySetting} must be the base64 of exactly 32 bytes. {HowToMakeOne}");
        }

        for (var i = 0; i < options.PreviousEncryptionKeys.Count; i++)
        {
            if (KeyEncryptionOptions.Decode(options.PreviousEncryptionKeys[i]) is null)
            {
                failures.Add($"{KeyEncryptionOptions.PreviousKeysSetting}:{i} must be the base64 of exactly 32 bytes.");
            }
        }

        if (!string.IsNullOrWhiteSpace(options.NextEncryptionKey))
        {
            if (options.Next is null)
            {
                failures.Add($"{KeyEncryptionOptions.NextKeySetting} must be the base64 of exactly 32 bytes.");
            }
            else if (string.IsNullOrWhiteSpace(options.EncryptionKey))
            {
                failures.Add($"{KeyEncryptionOptions.NextKeySetting} is set without {KeyEncryptionOptions.EncryptionKeySetting}; it is the key a rotation moves to, so set the current one too.");
            }
            else if (options.Current is { } current && options.Next.AsSpan().SequenceEqual(current))
            {
                failures.Add($"{KeyEncryptionOptions.NextKeySetting} is the same key as {KeyEncryptionOptions.EncryptionKeySetting}; remove it once the rotation is done.");
            }
        }

        if (options.PreviousEncryptionKeys.Count > 0 && options.Current is null && failures.Count == 0)
        {
            failures.Add($"{KeyEncryptionOptions.PreviousKeysSetting} is set without {KeyEncryptionOptions.EncryptionKeySetting}; rows are re-wrapped with the current key, so set it too.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
