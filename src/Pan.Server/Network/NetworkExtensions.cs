using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Pan.Server.Network;

public static class NetworkExtensions
{
    /// <summary>Binds <c>Pan:Network</c> and prepares the forwarded-headers middleware to trust exactly those proxies.</summary>
    public static IServiceCollection AddPanNetwork(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<NetworkOptions>().BindConfiguration(NetworkOptions.Section)
            .Validate(o => o.TrustedProxies.All(NetworkOptions.IsValidEntry),
                "Pan:Network:TrustedProxies entries must be IP addresses (10.0.0.5) or networks (10.0.0.0/8).")
            .ValidateOnStart();
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<NetworkOptions>>((forwarded, network) =>
        {
            // Why Proto too: behind a TLS-terminating proxy the request is https; the OAuth provider (OpenIddict) refuses
            // plain-http requests, and cookies are marked Secure only on https requests. Only trusted proxies count.
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Why: ASP.NET trusts loopback by default; Pan trusts only what the operator listed.
            forwarded.KnownIPNetworks.Clear();
            forwarded.KnownProxies.Clear();
            // Why: the middleware stops at the first hop that is not a trusted proxy, so a chain of trusted proxies
            // may be unwound completely without letting a client's own X-Forwarded-For entries through.
            forwarded.ForwardLimit = null;
            foreach (var entry in network.Value.TrustedProxies.Select(e => e.Trim()))
            {
                if (IPAddress.TryParse(entry, out var address))
                {
                    forwarded.KnownProxies.Add(address);
                }
                else if (System.Net.IPNetwork.TryParse(entry, out var range))
                {
                    forwarded.KnownIPNetworks.Add(range);
                }
            }
        });
        // Why here: per-address limits of several features (email_existed, phone check-existence) share these counters.
        services.AddScoped<RateCounters>();
        services.AddHostedService<RateCounterJanitor>();
        return services;
    }

    /// <summary>Rewrites the client address from X-Forwarded-For when (and only when) trusted proxies are configured.</summary>
    public static WebApplication UsePanForwardedHeaders(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<NetworkOptions>>().Value.TrustedProxies.Count > 0)
        {
            app.UseForwardedHeaders();
        }

        return app;
    }
}
