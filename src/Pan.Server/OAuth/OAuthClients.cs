using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using Pan.Data;
using Pan.Server.Data;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Pan.Server.OAuth;

/// <summary>A registered client as the consent screen, GetDetail and the CLI see it.</summary>
public sealed record OAuthClient(
    string Id, string ClientId, string Name, string? LogoUrl, string? PrivacyUrl, string? TermsUrl, string? Summary,
    string ConsentType, bool Confidential, IReadOnlyList<string> Scopes, IReadOnlyList<string> RedirectUris)
{
    /// <summary>
    /// Whether a code sent to this client can only reach the client: it is confidential (its secret authenticates the
    /// code exchange), or every redirect URI is https (a link only the app's own domain can claim). Why it matters: a
    /// public client answering at a custom scheme or on loopback can be impersonated by any app on the device, which
    /// claims the scheme or listens on the port and runs its own flow with its own PKCE; a remembered consent would
    /// hand it the member's code with no screen (RFC 8252 8.6, RFC 6819 5.2.3.2). Such a client's consent is never
    /// remembered nor used to skip the screen.
    /// </summary>
    public bool IdentityAssured => Confidential || HttpsOnly(RedirectUris);

    /// <summary>Whether every one of <paramref name="redirectUris"/> (at least one) is an absolute https URI.</summary>
    public static bool HttpsOnly(IEnumerable<string> redirectUris)
    {
        var all = redirectUris.ToList();
        return all.Count > 0 && all.All(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps);
    }
}

/// <summary>What an operator registers (<c>clients add</c>).</summary>
public sealed record OAuthClientRegistration(
    string ClientId, string Name, string? LogoUrl, string? PrivacyUrl, string? TermsUrl, string? Summary,
    IReadOnlyList<string> RedirectUris, IReadOnlyList<string> PostLogoutRedirectUris, IReadOnlyList<string> Scopes,
    string ConsentType, bool Confidential);

/// <summary>The outcome of <see cref="OAuthClients.AddAsync"/>: false when the client id was already registered; the secret of a new confidential client.</summary>
public sealed record OAuthClientAdded(bool Added, string? Secret);

/// <summary>
/// OAuth clients in OpenIddict's application store: redirect URIs (matched exactly), permissions (the code and refresh
/// grants, the endpoints, one permission per allowed scope), PKCE required, consent type, and Pan's display data
/// (logo, policy and terms links, summary) in the application's properties.
/// </summary>
public sealed class OAuthClients(IOpenIddictApplicationManager applications, PanDbContext db)
{
    private const string LogoProperty = "pan_logo_url", PrivacyProperty = "pan_privacy_url", TermsProperty = "pan_terms_url", SummaryProperty = "pan_summary";

    /// <summary>
    /// Registers a client unless its id is registered already (in the caller's transaction when one is open). Of two
    /// registrations of one id at once, both of which found it free, the one whose insert meets the other's on the
    /// unique client id is answered as a registration after it is: not added. A savepoint undoes only that insert, so
    /// the caller's PostgreSQL transaction stays usable (for its audit line).
    /// </summary>
    public async Task<OAuthClientAdded> AddAsync(OAuthClientRegistration client, CancellationToken cancellationToken)
    {
        if (await applications.FindByClientIdAsync(client.ClientId, cancellationToken) is not null)
        {
            return new OAuthClientAdded(false, null);
        }

        var secret = client.Confidential ? Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32)) : null;
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = client.ClientId,
            ClientSecret = secret,
            ClientType = client.Confidential ? ClientTypes.Confidential : ClientTypes.Public,
            ConsentType = client.ConsentType,
            DisplayName = client.Name,
        };
        descriptor.RedirectUris.UnionWith(client.RedirectUris.Select(u => new Uri(u, UriKind.Absolute)));
        descriptor.PostLogoutRedirectUris.UnionWith(client.PostLogoutRedirectUris.Select(u => new Uri(u, UriKind.Absolute)));
        descriptor.Permissions.UnionWith(
        [
            Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.Endpoints.Revocation,
            Permissions.Endpoints.EndSession, Permissions.GrantTypes.AuthorizationCode, Permissions.ResponseTypes.Code,
        ]);
        if (client.Confidential)
        {
            descriptor.Permissions.Add(Permissions.Endpoints.Introspection);
        }

        if (client.Scopes.Contains(Scopes.OfflineAccess))
        {
            descriptor.Permissions.Add(Permissions.GrantTypes.RefreshToken);
        }

        descriptor.Permissions.UnionWith(client.Scopes.Select(s => Permissions.Prefixes.Scope + s));
        descriptor.Requirements.Add(Requirements.Features.ProofKeyForCodeExchange);
        Put(descriptor, LogoProperty, client.LogoUrl);
        Put(descriptor, PrivacyProperty, client.PrivacyUrl);
        Put(descriptor, TermsProperty, client.TermsUrl);
        Put(descriptor, SummaryProperty, client.Summary);
        const string Savepoint = "oauth_client_add";
        var transaction = db.Database.CurrentTransaction;
        if (transaction is not null)
        {
            await transaction.CreateSavepointAsync(Savepoint, cancellationToken);
        }

        try
        {
            await applications.CreateAsync(descriptor, cancellationToken);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex, out var what)
            && DbErrors.Concerns(what, "IX_oauth_applications_ClientId", "oauth_applications.ClientId"))
        {
            if (transaction is not null)
            {
                await transaction.RollbackToSavepointAsync(Savepoint, cancellationToken);
            }

            // Why: the refused application would otherwise be inserted again by the caller's next save.
            foreach (var entry in db.ChangeTracker.Entries<OpenIddictEntityFrameworkCoreApplication>().Where(e => e.State == EntityState.Added).ToList())
            {
                entry.State = EntityState.Detached;
            }

            return new OAuthClientAdded(false, null);
        }

        return new OAuthClientAdded(true, secret);
    }

    public async Task<OAuthClient?> FindAsync(string? clientId, CancellationToken cancellationToken) =>
        string.IsNullOrEmpty(clientId) || await applications.FindByClientIdAsync(clientId, cancellationToken) is not { } application
            ? null
            : await ViewAsync(application, cancellationToken);

    public async Task<OAuthClient?> FindByIdAsync(string id, CancellationToken cancellationToken) =>
        await applications.FindByIdAsync(id, cancellationToken) is { } application ? await ViewAsync(application, cancellationToken) : null;

    public async Task<IReadOnlyList<OAuthClient>> ListAsync(CancellationToken cancellationToken)
    {
        var list = new List<OAuthClient>();
        await foreach (var application in applications.ListAsync(null, null, cancellationToken))
        {
            list.Add(await ViewAsync(application, cancellationToken));
        }

        return [.. list.OrderBy(c => c.ClientId, StringComparer.Ordinal)];
    }

    /// <summary>Removes a client with its authorizations and tokens. False when there is none.</summary>
    public async Task<bool> RemoveAsync(string clientId, CancellationToken cancellationToken)
    {
        if (await applications.FindByClientIdAsync(clientId, cancellationToken) is not { } application)
        {
            return false;
        }

        await applications.DeleteAsync(application, cancellationToken);
        return true;
    }

    private async Task<OAuthClient> ViewAsync(object application, CancellationToken cancellationToken)
    {
        var properties = await applications.GetPropertiesAsync(application, cancellationToken);
        var permissions = await applications.GetPermissionsAsync(application, cancellationToken);
        return new OAuthClient(
            (await applications.GetIdAsync(application, cancellationToken))!,
            (await applications.GetClientIdAsync(application, cancellationToken))!,
            await applications.GetDisplayNameAsync(application, cancellationToken) ?? string.Empty,
            Get(properties, LogoProperty), Get(properties, PrivacyProperty), Get(properties, TermsProperty), Get(properties, SummaryProperty),
            await applications.GetConsentTypeAsync(application, cancellationToken) ?? ConsentTypes.Explicit,
            await applications.GetClientTypeAsync(application, cancellationToken) == ClientTypes.Confidential,
            [.. permissions.Where(p => p.StartsWith(Permissions.Prefixes.Scope, StringComparison.Ordinal)).Select(p => p[Permissions.Prefixes.Scope.Length..])],
            [.. await applications.GetRedirectUrisAsync(application, cancellationToken)]);
    }

    private static void Put(OpenIddictApplicationDescriptor descriptor, string name, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            descriptor.Properties[name] = JsonSerializer.SerializeToElement(value.Trim());
        }
    }

    private static string? Get(ImmutableDictionary<string, JsonElement> properties, string name) =>
        properties.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
