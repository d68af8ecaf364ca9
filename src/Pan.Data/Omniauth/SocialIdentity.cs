namespace Pan.Data.Omniauth;

/// <summary>
/// A member's account at a social provider (Facebook, Google, …), the key of social login. Identities are found by
/// (<see cref="Provider"/>, <see cref="ProviderUserId"/>), never by email; a member has at most one per provider.
/// </summary>
public sealed class SocialIdentity
{
    public long Id { get; set; }

    /// <summary>The seed's provider name: facebook, google_oauth2, twitter, linkedin, qq_connect, wechat, microsoft_graph.</summary>
    public string Provider { get; set; } = string.Empty;

    /// <summary>The provider's stable id of the user (Graph id, OpenID <c>sub</c>, Twitter id_str, QQ/WeChat openid, …).</summary>
    public string ProviderUserId { get; set; } = string.Empty;

    /// <summary>The member the identity signs in.</summary>
    public long Uid { get; set; }

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset LastUsed { get; set; }
}
