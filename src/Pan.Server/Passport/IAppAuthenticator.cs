using Pan.Server.Apps;

namespace Pan.Server.Passport;

/// <summary>
/// Authenticates a calling app (a shop scanner) by its id and secret. Passport depends on this small interface rather
/// than on <see cref="AppRegistry"/> itself so the app check can be replaced in tests; in the server it is
/// <see cref="AppRegistryAuthenticator"/>.
/// </summary>
public interface IAppAuthenticator
{
    /// <summary>The app's id when <paramref name="appSecret"/> is its current secret, else null.</summary>
    Task<string?> AuthenticateAsync(string? appId, string? appSecret, CancellationToken cancellationToken);
}

/// <summary>The server's <see cref="IAppAuthenticator"/>: asks the app registry.</summary>
public sealed class AppRegistryAuthenticator(AppRegistry registry) : IAppAuthenticator
{
    public async Task<string?> AuthenticateAsync(string? appId, string? appSecret, CancellationToken cancellationToken) =>
        (await registry.AuthenticateAsync(appId, appSecret, cancellationToken))?.AppId;
}
