using Grpc.Core;
using Pan.Server.Errors;

namespace Pan.Server.Passport;

/// <summary>
/// The app behind a scanner call: metadata (gRPC) or headers (HTTP/JSON) <c>x-pan-app-id</c> and
/// <c>x-pan-app-secret</c>, checked by <see cref="IAppAuthenticator"/>. Missing or wrong: UNAUTHENTICATED (reason
/// APP_UNAUTHENTICATED), with one answer for an unknown app and a wrong secret.
/// </summary>
public static class ScannerAuth
{
    public const string AppIdHeader = "x-pan-app-id";
    public const string AppSecretHeader = "x-pan-app-secret";

    /// <summary>Longest app id or secret looked at; anything longer is refused before the registry is asked.</summary>
    private const int MaxLength = 256;

    public static async Task<string> RequireAppAsync(HttpContext http, IAppAuthenticator apps, CancellationToken cancellationToken)
    {
        var appId = http.Request.Headers[AppIdHeader].ToString();
        var secret = http.Request.Headers[AppSecretHeader].ToString();
        if (appId.Length == 0 || secret.Length == 0 || appId.Length > MaxLength || secret.Length > MaxLength
            || await apps.AuthenticateAsync(appId, secret, cancellationToken) is not { } app)
        {
            throw PanError.Plain(StatusCode.Unauthenticated, "APP_UNAUTHENTICATED",
                $"Send the calling app's {AppIdHeader} and {AppSecretHeader}.");
        }

        return app;
    }
}
