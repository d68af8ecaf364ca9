using Pan.Oauth;

namespace Pan.Server.OAuth;

/// <summary><c>pan.oauth.App</c>: what the consent screen shows, and the token exchanges over gRPC.</summary>
public sealed class AppEndpoint : App.AppBase
{
}
