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
    private readonly string? currentId;
    private readonly byte[]? next;
    private readonly string? nextId;
    private readonly Dictionary<string, byte[]> byId = new(StringComparer.Ordinal);
    private volatile bool nextInUse;

    public KeyEncryption(IOptions<KeyEncryptionOptions> options)
    {
        current = options.Value.Current;
        next = current is null ? null : options.Value.Next;
        foreach (var key in options.Value.Previous.Reverse().Append(next).Append(current).OfType<byte[]>())
        {
            byId[IdOf(key)] = key;
        }

        currentId = current is null ? null : IdOf(current);
        nextId = next is null ? null : IdOf(next);
    }

    /// <summary>True when <c>Pan:Keys:EncryptionKey</c> is set: new keys are wrapped and old rows re-wrapped.</summary>
    public bool Enabled => current is not null;

    /// <summary>
    /// The id (hex) of the key new values are wrapped with: <c>Pan:Keys:EncryptionKey</c>'s, or
    /// <c>Pan:Keys:NextEncryptionKey</c>'s once a row wrapped with it was read; null when unset.
    /// </summary>
    public string? CurrentKeyId => nextInUse ? nextId : currentId;

    /// <summary>The setting that holds the key of <see cref="CurrentKeyId"/>, for messages.</summary>
    public string CurrentKeySetting => nextInUse ? KeyEncryptionOptions.NextKeySetting : KeyEncryptionOptions.EncryptionKeySetting;

    /// <summary>True once a stored value wrapped with <c>Pan:Keys:NextEncryptionKey</c> was read (see <see cref="Unprotect"/>).</summary>
    public bool NextKeyInUse => nextInUse;

    /// <summary>The form to store <paramref name="material"/> in: wrapped for the row <paramref name="context"/>, or as is when disabled.</summary>
    public byte[] Protect(byte[] material, string context) =>
        current is null ? material : KeyEnvelope.Seal(nextInUse ? next! : current, material, context);

    /// <summary>The key material of a stored value; <paramref name="what"/> names the row in error messages.</summary>
    /// <remarks>
    /// Why reading decides the wrapping key: a row wrapped with the next key means another node already runs step 2
    /// of a rotation (it re-wrapped the rows). From then on this node, still on step 1's settings, must not make
    /// anything the old key alone can read, since step 3 removes that key; every node reads the next key already.
    /// </remarks>
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
                : $"{what} in the database is encrypted with key id {id}, which is neither {KeyEncryptionOptions.EncryptionKeySetting} (key id {currentId}) nor one of {KeyEncryptionOptions.PreviousKeysSetting}. Configure the key it was encrypted with.");
        }

        byte[] material;
        try
        {
            material = KeyEnvelope.Open(key, stored, context);
        }
        catch (CryptographicException)
        {
            throw new KeyEncryptionException(
                $"{what} in the database could not be decrypted with the key id {id} from {KeyEncryptionOptions.EncryptionKeySetting} / {KeyEncryptionOptions.PreviousKeysSetting}: the stored value was altered, copied from another row or has an unknown format.");
        }

        if (!nextInUse && id == nextId)
        {
            nextInUse = true;
        }

        return material;
    }

    /// <summary>True when a stored value should be rewritten: plain, or wrapped by a key other than the one new values get.</summary>
    public bool NeedsRewrap(byte[] stored) =>
        CurrentKeyId is { } wrapping && (!KeyEnvelope.IsEnvelope(stored) || Convert.ToHexStringLower(KeyEnvelope.WrappedBy(stored)) != wrapping);

    /// <summary>Unwraps with whatever key wrapped it and wraps again with the current key.</summary>
    public byte[] Rewrap(byte[] stored, string context, string what) => Protect(Unprotect(stored, context, what), context);

    private static string IdOf(byte[] key) => Convert.ToHexStringLower(KeyEnvelope.KeyId(key));
}
