namespace Pan.Data.Apps;

/// <summary>
/// A registered app of the family (one row per <c>pan.general.application.AppId.Value</c>): its display name, the
/// SHA-256 of its secret, and the hosts its hand-off <c>auth_url</c>s may point to.
/// </summary>
public sealed class StoredApp
{
    /// <summary>Longest stored <see cref="AuthHosts"/> list, in characters (the column's size).</summary>
    public const int AuthHostsLength = 2000;

    /// <summary>The canonical app id (the AppId value name, e.g. "jkforum").</summary>
    public string AppId { get; set; } = string.Empty;

    public string Name { get; set; } = string.Empty;

    /// <summary>SHA-256 of the secret's text (32 bytes); null until an operator registers the app and a secret is made.</summary>
    public byte[]? SecretHash { get; set; }

    /// <summary>Lower-case host names, comma-separated, that the app's <c>auth_url</c>s may point to.</summary>
    public string AuthHosts { get; set; } = string.Empty;

    public DateTimeOffset Created { get; set; }

    /// <summary>When the current secret was made (first registration or the last rotation).</summary>
    public DateTimeOffset? SecretRotated { get; set; }
}
