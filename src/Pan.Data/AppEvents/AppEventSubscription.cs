namespace Pan.Data.AppEvents;

/// <summary>
/// An app's subscription to Pan's events (the <c>app_event_subscriptions</c> table, set with the operator CLI
/// <c>apps events</c>): where its events are POSTed and the secret they are signed with. No row: the app gets no events.
/// </summary>
public sealed class AppEventSubscription
{
    /// <summary>Longest endpoint URL, in characters (the column's size).</summary>
    public const int UrlLength = 2048;

    /// <summary>The app (canonical app id; references apps.app_id).</summary>
    public string AppId { get; set; } = string.Empty;

    /// <summary>The app's endpoint: absolute https (http only on loopback), no user info.</summary>
    public string Url { get; set; } = string.Empty;

    /// <summary>
    /// The signing secret's 32 random bytes, wrapped with <c>Pan:Keys:EncryptionKey</c> like every key Pan stores (as
    /// they are while that setting is unset). Pan needs the secret itself to sign, so it cannot keep only a hash.
    /// </summary>
    public byte[] Secret { get; set; } = [];

    /// <summary>Bumped by every new secret; part of the wrapped secret's context, so an older secret copied over the row is refused.</summary>
    public int SecretVersion { get; set; }

    /// <summary>
    /// The secret <see cref="Secret"/> replaced, still signing alongside it until <see cref="PreviousSecretUntil"/> (so
    /// an app's receivers accept events between the rotation and the app's deploy of the new secret); wrapped as it was
    /// as version <see cref="SecretVersion"/> - 1. Null when there is none (erased once its time is over).
    /// </summary>
    public byte[]? PreviousSecret { get; set; }

    /// <summary>Until when <see cref="PreviousSecret"/> signs too.</summary>
    public DateTimeOffset? PreviousSecretUntil { get; set; }

    public DateTimeOffset Created { get; set; }

    /// <summary>When the URL or the secret last changed.</summary>
    public DateTimeOffset Modified { get; set; }
}
