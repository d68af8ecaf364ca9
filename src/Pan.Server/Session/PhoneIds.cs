using HashidsNet;
using Microsoft.Extensions.Options;
using Pan.Server.Members;

namespace Pan.Server.Session;

/// <summary>
/// The <c>phone_id</c> of a member: an opaque id of its phone-level account, the same for every member under one
/// phone. It is the account id encoded with Hashids under a salt derived from <c>Pan:Hashids:Salt</c> (different from
/// the hash_uid salt, so a phone_id never reads as a hash_uid) and at least 10 characters. It is shown only to the
/// member themself and to apps holding the member's access token (TokenInfo).
/// </summary>
public sealed class PhoneIds(IOptions<HashidsOptions> options)
{
    private readonly Hashids hashids = new(options.Value.Salt + "/phone-id", 10);

    public string Encode(long accountId) => hashids.EncodeLong(accountId);
}
