using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Pan.Server.Keys;

/// <summary>A stored key that cannot be unwrapped with the configured keys; stops start-up rather than making new keys.</summary>
public sealed class KeyEncryptionException(string message) : InvalidOperationException(message);

/// <summary>
/// Wraps and unwraps the keys Pan stores in the database with <c>Pan:Keys:EncryptionKey</c> (see <see cref="KeyEnvelope"/>).
/// When the setting is unset, keys are stored as they are. Plain rows are always readable (they are wrapped at the
/// next start); a wrapped row without the key that wrapped it is an error naming the setting, never a reason to make
/// new keys, which would sign everyone out.
/// </summary>
public sealed class KeyEncryption
{
    private readonly byte[]? current;
    private readonly byte[]? currentId;
    private readonly Dictionary<string, byte[]> byId = new(StringComparer.Ordinal);

    public KeyEncryption(IOptions<KeyEncryptionOptions> options)
    {
        current = options.Value.Current;
        foreach (var key in options.Value.Previous.Reverse().Append(current).OfType<byte[]>())
        {
            byId[Convert.ToHexStringLower(KeyEnvelope.KeyId(key))] = key;
        }

        currentId = current is null ? null : KeyEnvelope.KeyId(current);
    }

    /// <summary>True when <c>Pan:Keys:EncryptionKey</c> is set: new keys are wrapped and old rows re-wrapped.</summary>
    public bool Enabled => current is not null;

    /// <summary>The id of the current key as written in envelopes and messages (hex), or null when unset.</summary>
    public string? CurrentKeyId => currentId is null ? null : Convert.ToHexStringLower(currentId);

    /// <summary>The form to store <paramref name="material"/> in: wrapped for the row <paramref name="context"/>, or as is when disabled.</summary>
    public byte[] Protect(byte[] material, string context) => current is null ? material : KeyEnvelope.Seal(current, material, context);

    /// <summary>The key material of a stored value; <paramref name="what"/> names the row in error messages.</summary>
    public byte[] Unprotect(byte[] stored, string context, string what)
    {
        if (!KeyEnvelope.IsEnvelope(stored))
        {
            return stored;
        }

        var id = Convert.ToHexStringLower(KeyEnvelope.WrappedBy(stored));
        if (!byId.TryGetValue(id, out var key))
        {
            throw new KeyEncryptionException(current is null
                ? $"{what} in the database is encrypted (key id {id}) but {KeyEncryptionOptions.EncryptionKeySetting} is not set. Set it to the key the database was encrypted with; Pan does not replace encrypted keys."
                : $"{what} in the database is encrypted with key id {id}, which is neither {KeyEncryptionOptions.EncryptionKeySetting} (key id {CurrentKeyId}) nor one of {KeyEncryptionOptions.PreviousKeysSetting}. Configure the key it was encrypted with.");
        }

        try
        {
            return KeyEnvelope.Open(key, stored, context);
        }
        catch (CryptographicException)
        {
            throw new KeyEncryptionException(
                $"{what} in the database could not be decrypted with the key id {id} from {KeyEncryptionOptions.EncryptionKeySetting} / {KeyEncryptionOptions.PreviousKeysSetting}: the stored value was altered, copied from another row or has an unknown format.");
        }
    }

    /// <summary>True when a stored value should be rewritten: plain, or wrapped by a key other than the current one.</summary>
    public bool NeedsRewrap(byte[] stored) =>
        currentId is not null && (!KeyEnvelope.IsEnvelope(stored) || !KeyEnvelope.WrappedBy(stored).SequenceEqual(currentId));

    /// <summary>Unwraps with whatever key wrapped it and wraps again with the current key.</summary>
    public byte[] Rewrap(byte[] stored, string context, string what) => Protect(Unprotect(stored, context, what), context);
}
