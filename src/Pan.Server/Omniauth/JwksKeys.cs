using Microsoft.IdentityModel.Tokens;

namespace Pan.Server.Omniauth;

/// <summary>
/// One provider's signing keys (JWKS), for verifying its ID tokens. The set is cached for an hour and fetched again
/// early when a token names a key id it does not hold (providers rotate keys), at most once a minute. An unreadable
/// set is the provider being unavailable.
/// </summary>
public sealed class JwksKeys(ProviderHttp http, TimeProvider clock, string provider, Func<Uri> url) : IDisposable
{
    private readonly SemaphoreSlim fetchLock = new(1, 1);
    private JsonWebKeySet? keys;
    private DateTimeOffset fetched;

    /// <summary>The keys to check a token signed with key <paramref name="kid"/> against.</summary>
    public async Task<IList<SecurityKey>> KeysAsync(string? kid, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var current = keys;
        var stale = current is null || now - fetched > TimeSpan.FromHours(1);
        var missing = current is not null && kid is not null && current.Keys.All(k => k.Kid != kid) && now - fetched > TimeSpan.FromMinutes(1);
        if (!stale && !missing)
        {
            return current!.GetSigningKeys();
        }

        await fetchLock.WaitAsync(cancellationToken);
        try
        {
            if (keys is not null && !ReferenceEquals(keys, current))
            {
                return keys.GetSigningKeys();
            }

            var text = await http.GetTextAsync(provider, new HttpRequestMessage(HttpMethod.Get, url()), cancellationToken);
            try
            {
                keys = new JsonWebKeySet(text);
            }
            catch (Exception ex) when (ex is ArgumentException or System.Text.Json.JsonException)
            {
                throw new Errors.DependencyUnavailableException($"{provider}'s JWKS is unreadable.", ex);
            }

            fetched = now;
            return keys.GetSigningKeys();
        }
        finally
        {
            fetchLock.Release();
        }
    }

    public void Dispose() => fetchLock.Dispose();
}
