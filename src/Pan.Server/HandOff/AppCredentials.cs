using Grpc.Core;
using Pan.Server.Apps;

namespace Pan.Server.HandOff;

/// <summary>Reads the calling app's credentials and the member's access token off a hand-off call.</summary>
public static class AppCredentials
{
    /// <summary>Longest accepted app_id or app_secret text.</summary>
    public const int MaxLength = 256;

    /// <summary>
    /// (app_id, app_secret) from the request fields, or — when both fields are empty — from the
    /// <c>x-pan-app-id</c> / <c>x-pan-app-secret</c> metadata (headers over HTTP/JSON).
    /// </summary>
    public static (string AppId, string AppSecret) Read(string appId, string appSecret, ServerCallContext context)
    {
        if (appId.Length > 0 || appSecret.Length > 0)
        {
            return (appId, appSecret);
        }

        var headers = context.GetHttpContext().Request.Headers;
        return (headers[AppRegistry.AppIdHeader].ToString(), headers[AppRegistry.AppSecretHeader].ToString());
    }

    /// <summary>The bearer token of the <c>authorization</c> metadata/header ("Bearer &lt;token&gt;" or the bare token), or null.</summary>
    public static string? Bearer(ServerCallContext context)
    {
        var value = context.GetHttpContext().Request.Headers.Authorization.ToString().Trim();
        if (value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            value = value["Bearer ".Length..].Trim();
        }

        return value.Length == 0 ? null : value;
    }
}
