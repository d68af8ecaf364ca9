using HashidsNet;
using Microsoft.Extensions.Options;

namespace Pan.Server.Members;

/// <summary>Encodes a member's uid as its public <c>hash_uid</c> and back.</summary>
public sealed class HashUids(IOptions<HashidsOptions> options)
{
    private readonly Hashids hashids = new(options.Value.Salt, options.Value.MinLength);

    public string Encode(long uid) => hashids.EncodeLong(uid);

    /// <summary>The uid behind a hash_uid, or null when the text is not a valid hash_uid of this deployment.</summary>
    public long? Decode(string hashUid)
    {
        if (string.IsNullOrWhiteSpace(hashUid) || hashUid.Length > 64)
        {
            return null;
        }

        try
        {
            var values = hashids.DecodeLong(hashUid);
            // Why: Hashids decodes some foreign strings to numbers; only a round-trip proves it is ours.
            return values.Length == 1 && hashids.EncodeLong(values[0]) == hashUid ? values[0] : null;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or OverflowException)
        {
            return null;
        }
    }
}
