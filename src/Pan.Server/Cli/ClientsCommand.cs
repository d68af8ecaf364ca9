using Pan.Data;
using Pan.Server.OAuth;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Pan.Server.Cli;

/// <summary>
/// <c>clients</c>: the OAuth 2.0 / OpenID Connect clients ("Sign in with Pan") and the provider's keys. A confidential
/// client's secret is printed once, when it is made; OpenIddict stores only its hash.
/// </summary>
public static class ClientsCommand
{
    public const string Usage = """
        Usage: Pan.Server clients list
               Pan.Server clients add <client_id> --name <name> --redirect-uri <uri> [--redirect-uri <uri> ...]
                      --scope <scope> [--scope <scope> ...] [--consent explicit|implicit] [--type public|confidential]
                      [--logo-url <https url>] [--privacy-url <url>] [--terms-url <url>] [--summary <text>]
                      [--post-logout-uri <uri> ...]                                    (confidential: prints the secret once)
               Pan.Server clients remove <client_id>                                   (also revokes its grants and tokens)
               Pan.Server clients rotate-keys                                          (new signing and encryption keys)
          scopes: openid, profile, email, phone, offline_access (needed for refresh tokens)
        """;

    /// <summary>The options that take a value (<c>--name X</c>); clients has no flags.</summary>
    public static readonly string[] ValueOptions =
        ["name", "redirect-uri", "post-logout-uri", "scope", "consent", "type", "logo-url", "privacy-url", "terms-url", "summary"];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var parsed = CliArguments.Parse(args, ValueOptions);
        if (parsed.Problem is not null)
        {
            return await CliHost.UsageAsync(error, parsed.Problem, Usage);
        }

        var clientId = parsed.Positional(1);
        switch (parsed.Positional(0))
        {
            case "list":
                return await CliHost.RunAsync(parsed.Settings, output, error, ListAsync);
            case "rotate-keys":
                return await CliHost.RunAsync(parsed.Settings, output, error, RotateAsync);
            case "remove" when string.IsNullOrWhiteSpace(clientId):
                return await CliHost.UsageAsync(error, "clients remove needs a client_id.", Usage);
            case "remove":
                return await CliHost.RunAsync(parsed.Settings, output, error, c => RemoveAsync(c, clientId));
            case "add":
                var (registration, problem) = Read(parsed, clientId);
                return registration is null
                    ? await CliHost.UsageAsync(error, problem!, Usage)
                    : await CliHost.RunAsync(parsed.Settings, output, error, c => AddAsync(c, registration));
            case var verb:
                return await CliHost.UsageAsync(error, verb is null ? "clients needs a command." : $"Unknown clients command '{verb}'.", Usage);
        }
    }

    /// <summary>Checks <c>clients add</c>'s arguments; a problem names the option.</summary>
    private static (OAuthClientRegistration? Registration, string? Problem) Read(CliArguments parsed, string? clientId)
    {
        if (string.IsNullOrWhiteSpace(clientId) || clientId.Length > 100 || !clientId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            return (null, "clients add needs a client_id of 1 to 100 letters, digits, '-', '_' or '.'.");
        }

        var name = parsed.Option("name")?.Trim();
        if (name is not { Length: > 0 and <= 100 })
        {
            return (null, "--name must be 1 to 100 characters.");
        }

        var redirects = parsed.Options("redirect-uri");
        if (redirects.Count == 0)
        {
            return (null, "clients add needs at least one --redirect-uri.");
        }

        if (redirects.FirstOrDefault(u => RedirectProblem(u) is not null) is { } badRedirect)
        {
            return (null, $"--redirect-uri {badRedirect}: {RedirectProblem(badRedirect)}");
        }

        if (parsed.Options("post-logout-uri").FirstOrDefault(u => RedirectProblem(u) is not null) is { } badLogout)
        {
            return (null, $"--post-logout-uri {badLogout}: {RedirectProblem(badLogout)}");
        }

        var scopes = parsed.Options("scope").SelectMany(s => s.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal).ToList();
        if (scopes.Count == 0)
        {
            return (null, "clients add needs at least one --scope.");
        }

        if (scopes.FirstOrDefault(s => !OAuthScopes.IsKnown(s)) is { } unknown)
        {
            return (null, $"--scope {unknown} is not one of {string.Join(", ", OAuthScopes.Names)}.");
        }

        var consent = parsed.Option("consent") ?? ConsentTypes.Explicit;
        var type = parsed.Option("type") ?? ClientTypes.Public;
        if (consent is not (ConsentTypes.Explicit or ConsentTypes.Implicit) || type is not (ClientTypes.Public or ClientTypes.Confidential))
        {
            return (null, "--consent is explicit or implicit; --type is public or confidential.");
        }

        string? Url(string option, out string? problem)
        {
            problem = null;
            var value = parsed.Option(option)?.Trim();
            if (value is { Length: > 0 } && !(Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback))))
            {
                problem = $"--{option} must be an https URL.";
            }

            return value is { Length: > 0 } ? value : null;
        }

        var logo = Url("logo-url", out var logoProblem);
        var privacy = Url("privacy-url", out var privacyProblem);
        var terms = Url("terms-url", out var termsProblem);
        if ((logoProblem ?? privacyProblem ?? termsProblem) is { } urlProblem)
        {
            return (null, urlProblem);
        }

        var summary = parsed.Option("summary")?.Trim();
        if (summary is { Length: > 500 })
        {
            return (null, "--summary must be at most 500 characters.");
        }

        return (new OAuthClientRegistration(clientId, name, logo, privacy, terms, summary, redirects, parsed.Options("post-logout-uri"), scopes,
            consent, type == ClientTypes.Confidential), null);
    }

    /// <summary>
    /// Why: redirect URIs are compared exactly, so each must be a complete absolute URI without a fragment: https, http
    /// only on a loopback address (native apps, development), or a native app's private-use scheme (com.example.app:/cb).
    /// </summary>
    private static string? RedirectProblem(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || !string.IsNullOrEmpty(uri.Fragment))
        {
            return "must be an absolute URI without a fragment";
        }

        return uri.Scheme switch
        {
            "https" => null,
            "http" => uri.IsLoopback ? null : "http is only allowed on a loopback address",
            "javascript" or "data" or "file" or "vbscript" or "ftp" or "ws" or "wss" => "this scheme is not allowed",
            _ => uri.Scheme.Contains('.', StringComparison.Ordinal) ? null : "a private-use scheme must be a reversed domain name (com.example.app)",
        };
    }

    private static async Task<int> AddAsync(CliContext cli, OAuthClientRegistration registration)
    {
        var clients = cli.Services.GetRequiredService<OAuthClients>();
        // Why one transaction with the line: a registration that committed while its line was refused left a client
        // nobody could trace, and its secret was never shown.
        // Why no look here: two registrations of one id at once both found it free; OAuthClients.AddAsync answers the
        // one whose insert meets the other's as a registration after it (already registered), not as a refused write.
        // Why the secret is hashed in the transaction: OpenIddict hashes it as it stores the client (PBKDF2-SHA256,
        // 10,000 rounds: about 2 ms, a few statements' worth); unlike rotate-keys' RSA key, not worth working around it.
        var (added, secret) = await cli.AuditedAsync("cli.clients.add", "client:" + registration.ClientId, async () =>
        {
            var result = await clients.AddAsync(registration, CancellationToken.None);
            return (result, result.Added ? "ok" : "refused: exists");
        });
        if (!added)
        {
            await cli.Error.WriteLineAsync($"{registration.ClientId} is already registered. Remove it first to register it again.");
            return CliHost.Failed;
        }

        await cli.Output.WriteLineAsync(
            $"Registered {(registration.Confidential ? "confidential" : "public")} client {registration.ClientId} ({registration.Name}); scopes: {string.Join(' ', registration.Scopes)}; consent: {registration.ConsentType}.");
        // Why: implicit consent is the operator's decision, but for a public client answering at a custom scheme or on
        // loopback any app on the device can claim that redirect and get the member's code with no screen at all.
        if (registration.ConsentType == ConsentTypes.Implicit && !registration.Confidential && !OAuthClient.HttpsOnly(registration.RedirectUris))
        {
            await cli.Error.WriteLineAsync(
                "Warning: implicit consent for a public client with a redirect URI that is not https: any app on the member's device can claim "
                + "that scheme or loopback port and get the member's tokens without a consent screen. Give implicit consent only to an app you ship "
                + "on a platform that binds the scheme to it, or use https redirect URIs (claimed links) or a confidential client.");
        }

        if (secret is not null)
        {
            await cli.Output.WriteLineAsync("Client secret (shown only now; store it in the app's secret store):");
            await cli.Output.WriteLineAsync(secret);
        }

        return CliHost.Ok;
    }

    private static async Task<int> ListAsync(CliContext cli)
    {
        await cli.Output.WriteLineAsync($"{"CLIENT_ID",-24} {"TYPE",-12} {"CONSENT",-9} {"NAME",-24} {"SCOPES",-40} REDIRECT_URIS");
        foreach (var client in await cli.Services.GetRequiredService<OAuthClients>().ListAsync(CancellationToken.None))
        {
            await cli.Output.WriteLineAsync(
                $"{client.ClientId,-24} {(client.Confidential ? "confidential" : "public"),-12} {client.ConsentType,-9} {client.Name,-24} {string.Join(' ', client.Scopes),-40} {string.Join(' ', client.RedirectUris)}");
        }

        return CliHost.Ok;
    }

    private static async Task<int> RemoveAsync(CliContext cli, string clientId)
    {
        var clients = cli.Services.GetRequiredService<OAuthClients>();
        // Why one transaction with the line: the removal (with the client's authorizations and tokens) commits only with it.
        var removed = await cli.AuditedAsync("cli.clients.remove", "client:" + clientId, async () =>
        {
            var gone = await clients.RemoveAsync(clientId, CancellationToken.None);
            return (gone, gone ? "ok" : "refused: unknown");
        });
        if (!removed)
        {
            await cli.Error.WriteLineAsync($"There is no client {clientId}.");
            return CliHost.Failed;
        }

        await cli.Output.WriteLineAsync($"Removed {clientId} with its authorizations and tokens.");
        return CliHost.Ok;
    }

    internal static async Task<int> RotateAsync(CliContext cli)
    {
        var ring = cli.Services.GetRequiredService<OAuthKeyRing>();
        var db = cli.Services.GetRequiredService<PanDbContext>();
        // Why before the transaction: making the RSA key takes a tenth of a second or more, and on SQLite the
        // transaction holds the database's one write lock (sign-ins, codes and every other writer wait for it).
        var material = ring.NewMaterial();
        // Why one transaction with the line: both new generations and the retirements commit only with it.
        var (signing, encryption) = await cli.AuditedAsync("cli.clients.rotate-keys", "oauth-keys",
            async () => (await ring.RotateAsync(db, material, CancellationToken.None), "ok"));
        await cli.Output.WriteLineAsync(
            $"New OAuth keys: signing generation {signing}, encryption generation {encryption}. Each node uses them from its next start; the previous generation keeps verifying and decrypting.");
        return CliHost.Ok;
    }
}
