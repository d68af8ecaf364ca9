using Google.Api;
using Google.Protobuf.Reflection;
using Pan.Server.OAuth;
using Pan.Server.Omniauth;

namespace Pan.Server.Cors;

/// <summary>
/// The paths a browser app on an allowed origin may call: the member-facing gRPC services over gRPC-Web (at their
/// plain path and under the gRPC-Web prefix) and their HTTP/JSON routes, the Omniauth REST API, the apinode user
/// endpoints, and the OIDC endpoints a single-page app uses (discovery, JWKS, token, user info, revocation).
/// </summary>
/// <remarks>
/// Why not the rest: the hosted pages, /connect/authorize, consent and end-session are navigations of the browser, not
/// calls, and must never be readable by another site; the admin API is the back office's, the lever service and
/// introspection are server-to-server (an internal key, a client secret), and health, reflection and the OpenAPI
/// document are operators' tools.
/// </remarks>
public sealed class CorsSurface
{
    private static readonly Google.Protobuf.Reflection.ServiceDescriptor[] BrowserServices =
    [
        General.Member.MemberServiceV2.Descriptor,
        General.Member.Dangerous.Command.Descriptor,
        Oauth.App.Descriptor,
    ];

    private static readonly string[] OidcPaths =
    [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/" + OAuthPaths.Jwks,
        "/" + OAuthPaths.Token,
        "/" + OAuthPaths.UserInfo,
        "/" + OAuthPaths.Revoke,
    ];

    private readonly PathString[] prefixes;
    private readonly HashSet<string> exact = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="grpcWebPrefix">Pan:Transport:GrpcWebPrefix (empty: none).</param>
    /// <param name="guestBasePath">Pan:Guests:BasePath (empty: the apinode endpoints are at /admin/user).</param>
    public CorsSurface(string grpcWebPrefix, string guestBasePath)
    {
        var services = BrowserServices.Select(s => new PathString("/" + s.FullName)).ToList();
        var web = string.IsNullOrEmpty(grpcWebPrefix) ? [] : services.Select(s => new PathString(grpcWebPrefix).Add(s));
        prefixes = [.. services, .. web, new PathString(OmniauthEndpoints.Prefix), new PathString(guestBasePath + "/admin/user")];
        foreach (var method in BrowserServices.SelectMany(s => s.Methods))
        {
            if (JsonRoute(method) is { } route)
            {
                exact.Add(route);
            }
        }

        exact.UnionWith(OidcPaths);
    }

    /// <summary>Whether a request to <paramref name="path"/> (before the gRPC-Web prefix is taken off) is a browser app's call.</summary>
    public bool Covers(PathString path)
    {
        if (!path.HasValue)
        {
            return false;
        }

        foreach (var prefix in prefixes)
        {
            if (path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return exact.Contains(path.Value!);
    }

    /// <summary>The HTTP/JSON route of <paramref name="method"/> (its <c>google.api.http</c> rule), if it has one.</summary>
    private static string? JsonRoute(MethodDescriptor method)
    {
        var rule = method.GetOptions()?.GetExtension(AnnotationsExtensions.Http);
        return rule?.PatternCase switch
        {
            HttpRule.PatternOneofCase.Post => rule.Post,
            HttpRule.PatternOneofCase.Get => rule.Get,
            HttpRule.PatternOneofCase.Put => rule.Put,
            HttpRule.PatternOneofCase.Delete => rule.Delete,
            HttpRule.PatternOneofCase.Patch => rule.Patch,
            _ => null,
        };
    }
}
