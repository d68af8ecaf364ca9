using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Pan.Server.Hosting;

/// <summary>
/// The listeners' URLs (<c>Kestrel:Endpoints:&lt;name&gt;:Url</c>), checked at start-up with Pan's other settings. Why:
/// Kestrel refuses a URL it cannot bind with its own message, which quotes the value but names no setting ("Invalid
/// url: 'notaurl'"), and that is the setting a newcomer edits first to move the ports. Nothing is bound from this
/// class: Kestrel reads the section itself.
/// </summary>
public sealed class KestrelEndpointUrls
{
    public const string Section = "Kestrel:Endpoints";
}

/// <summary>
/// Refuses an endpoint URL Kestrel cannot listen on: not an address, a scheme other than http and https, or a path
/// (Kestrel takes none). The message names the key, not the value, as for every other setting.
/// </summary>
internal sealed class KestrelEndpointUrlsValidator(IConfiguration configuration) : IValidateOptions<KestrelEndpointUrls>
{
    public ValidateOptionsResult Validate(string? name, KestrelEndpointUrls options)
    {
        var failures = configuration.GetSection(KestrelEndpointUrls.Section).GetChildren()
            .Where(endpoint => endpoint["Url"] is { } url && !IsListenAddress(url))
            .Select(endpoint => $"{KestrelEndpointUrls.Section}:{endpoint.Key}:Url must be an http:// or https:// address with a host and a port and no path (http://127.0.0.1:5080).")
            .ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsListenAddress(string url)
    {
        try
        {
            var address = BindingAddress.Parse(url);
            return (string.Equals(address.Scheme, "http", StringComparison.OrdinalIgnoreCase) || string.Equals(address.Scheme, "https", StringComparison.OrdinalIgnoreCase))
                && string.IsNullOrEmpty(address.PathBase);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
