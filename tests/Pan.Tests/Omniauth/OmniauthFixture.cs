using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Omniauth;

/// <summary>
/// A database, the fake social providers and a Pan server pointed at them, with two client apps registered through
/// the CLI (jkforum and shop24h, whose app secrets are the social-login clients' secrets).
/// </summary>
public abstract class OmniauthFixture : IAsyncLifetime
{
    public const string Client = "jkforum";
    public const string OtherClient = "shop24h";

    private PanServer? server;

    public FakeSocialProviders Providers { get; private set; } = null!;

    public ITestDatabase Database { get; private set; } = null!;

    public PanServer Server => server ?? throw new InvalidOperationException("The server has not started.");

    public string Secret { get; private set; } = string.Empty;

    public string OtherSecret { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        Providers = await FakeSocialProviders.StartAsync();
        Database = await CreateDatabaseAsync();
        server = await PanServer.StartAsync(Database, Settings());
        Secret = PanCli.Secret(await PanCli.RunAsync(Database, "apps", "add", Client, "--name", "JKForum"));
        OtherSecret = PanCli.Secret(await PanCli.RunAsync(Database, "apps", "add", OtherClient, "--name", "Shop 24h"));
    }

    /// <summary>
    /// Another node on the same database with some settings changed (a null value removes the setting) and its own
    /// clock (a fresh rate window).
    /// </summary>
    public Task<PanServer> StartNodeAsync(IDictionary<string, string?> changes, FakeTimeProvider clock)
    {
        var settings = Settings();
        foreach (var (key, value) in changes)
        {
            if (value is null)
            {
                settings.Remove(key);
            }
            else
            {
                settings[key] = value;
            }
        }

        return PanServer.StartAsync(Database, settings, clock);
    }

    /// <summary>
    /// The fake providers' settings with the cap on unbound sign-ins lifted (every test calls from 127.0.0.1 in one
    /// clock hour; the cap has its own tests).
    /// </summary>
    private Dictionary<string, string?> Settings()
    {
        var settings = Providers.Settings();
        settings["Pan:Omniauth:UnboundSignInsPerIpPerHour"] = "100000";
        return settings;
    }

    /// <summary>
    /// A <c>through_omniauth</c> request's fields for <paramref name="login"/> from this fixture's client (null values are
    /// left out when posted).
    /// </summary>
    public Dictionary<string, string?> SignInFields(SocialLogin login, string? email = null, string? password = null) => new()
    {
        ["client_id"] = Client,
        ["client_secret"] = Secret,
        ["provider"] = login.Provider,
        ["omniauth_token"] = login.Token,
        ["omniauth_secret"] = login.Secret,
        ["bundle_id"] = login.BundleId,
        ["open_id"] = login.OpenId,
        ["email"] = email,
        ["password"] = password,
    };

    /// <summary>POSTs <paramref name="fields"/> as JSON (or as a form) to /api/v3/verification/<paramref name="action"/>; the status and the body.</summary>
    public static async Task<(int Status, JsonElement Body, HttpResponseMessage Response)> PostAsync(
        PanServer on, string action, IDictionary<string, string?> fields, bool form = false, string? userAgent = null)
    {
        HttpContent content = form
            ? new FormUrlEncodedContent(fields.Where(f => f.Value is not null).Select(f => new KeyValuePair<string, string>(f.Key, f.Value!)))
            : JsonContent.Create(fields.Where(f => f.Value is not null).ToDictionary(f => f.Key, f => f.Value));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v3/verification/" + action) { Content = content };
        if (userAgent is not null)
        {
            request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        }

        var response = await on.Http.SendAsync(request);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return ((int)response.StatusCode, body, response);
    }

    public async Task DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }

        if (Database is not null)
        {
            await Database.DisposeAsync();
        }

        if (Providers is not null)
        {
            await Providers.DisposeAsync();
        }
    }

    protected abstract Task<ITestDatabase> CreateDatabaseAsync();
}

public sealed class SqliteOmniauthFixture : OmniauthFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresOmniauthFixture : OmniauthFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}
