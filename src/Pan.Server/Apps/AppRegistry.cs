namespace Pan.Server.Apps;

/// <summary>A registered app of the family (seeded from the seed's AppId values), as other features see it.</summary>
public sealed record RegisteredApp(string AppId, string Name, IReadOnlyList<string> AllowedAuthUrlHosts);

/// <summary>
/// The registry of the family's apps: their ids, hashed secrets and the hosts their <c>auth_url</c>s may point to.
/// Apps authenticate with (app_id, app_secret), in request fields or in the metadata/headers
/// <c>x-pan-app-id</c> / <c>x-pan-app-secret</c>.
/// </summary>
public sealed class AppRegistry
{
    /// <summary>The app when <paramref name="appSecret"/> is its current secret (constant-time check), else null.</summary>
    public Task<RegisteredApp?> AuthenticateAsync(string? appId, string? appSecret, CancellationToken cancellationToken) =>
        throw new NotImplementedException("apps helper");
}
