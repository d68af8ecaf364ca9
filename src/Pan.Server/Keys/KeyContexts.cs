using Pan.Data.AppEvents;
using Pan.Data.OAuth;
using Pan.Data.Tokens;

namespace Pan.Server.Keys;

/// <summary>
/// The associated data each stored key is wrapped with: the row's identity, so an envelope copied into another row
/// (say, an old generation over the current one) fails to unwrap. These strings are part of the stored format.
/// </summary>
public static class KeyContexts
{
    public const string DataProtection = "data_protection_keys";

    public static string For(SigningKey key) => $"signing_keys/{key.Kid}/{key.Generation}";

    public static string For(OAuthKey key) => $"oauth_keys/{key.Kind}/{key.Generation}/{key.KeyId}";

    public static string For(AppEventSubscription subscription) => $"app_event_subscriptions/{subscription.AppId}/{subscription.SecretVersion}";

    /// <summary>The context of the secret a subscription's current one replaced (kept for the rotation overlap): the version before.</summary>
    public static string ForPrevious(AppEventSubscription subscription) => $"app_event_subscriptions/{subscription.AppId}/{subscription.SecretVersion - 1}";

    /// <summary>How a signing key is named in messages.</summary>
    public static string Describe(SigningKey key) => $"Auth-token signing key generation {key.Generation} ({key.Kid})";

    public static string Describe(OAuthKey key) => $"OAuth {key.Kind} key generation {key.Generation} ({key.KeyId})";

    public static string Describe(AppEventSubscription subscription) => $"The event signing secret of app {subscription.AppId} (version {subscription.SecretVersion})";

    public static string DescribePrevious(AppEventSubscription subscription) => $"The previous event signing secret of app {subscription.AppId} (version {subscription.SecretVersion - 1})";
}
