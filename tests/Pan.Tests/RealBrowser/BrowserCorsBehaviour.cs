using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.RealBrowser;

/// <summary>
/// Two browser apps of the test, each a page on a loopback port of its own (so on an origin of its own, and not Pan's):
/// <see cref="Allowed"/> is in Pan:Cors:AllowedOrigins, <see cref="Other"/> is not.
/// </summary>
public sealed class BrowserApps : IAsyncDisposable
{
    private readonly WebApplication app;

    private BrowserApps(WebApplication app, Uri allowed, Uri other)
    {
        this.app = app;
        Allowed = allowed;
        Other = other;
    }

    public Uri Allowed { get; }

    public Uri Other { get; }

    public static async Task<BrowserApps> StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o =>
        {
            o.Listen(IPAddress.Loopback, 0);
            o.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        app.Run(context =>
        {
            context.Response.ContentType = "text/html";
            return context.Response.WriteAsync("<!DOCTYPE html><title>A browser app</title><p>A browser app of the family.</p>");
        });
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
        return new BrowserApps(app, addresses[0], addresses[1]);
    }

    /// <summary>The origin of <paramref name="page"/> as a browser sends it.</summary>
    public static string Origin(Uri page) => page.GetLeftPart(UriPartial.Authority);

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>A Pan server whose one browser app is <see cref="BrowserApps.Allowed"/> (started first, for its port).</summary>
public abstract class CorsBrowserFixture : ServerFixture
{
    public BrowserApps Apps { get; private set; } = null!;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Pan:Cors:AllowedOrigins:0"] = BrowserApps.Origin(Apps.Allowed),
        ["Pan:OAuth:AllowHttpOnLoopback"] = "true",
    };

    public override async Task InitializeAsync()
    {
        Apps = await BrowserApps.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Apps.DisposeAsync();
    }
}

public sealed class SqliteCorsBrowserFixture : CorsBrowserFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresCorsBrowserFixture : CorsBrowserFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}

/// <summary>
/// In a real browser (Debian's Chromium, headless), a page on an allowed origin calls Pan by gRPC-Web (framed by hand,
/// plain and under /gapi), HTTP/JSON and OIDC discovery and reads every answer; the same page on another origin gets a
/// TypeError from each fetch, because the browser refuses it.
/// </summary>
public abstract class BrowserCorsBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : CorsBrowserFixture
{
    private static readonly string[] Calls = ["grpcWeb", "grpcWebPrefixed", "json", "discovery"];

    [Fact]
    public async Task APageOnTheAllowedOrigin_ReadsPansAnswers_AndOneOnAnotherOrigin_IsRefusedByTheBrowser()
    {
        var allowed = fixture.Apps.Allowed.ToString();
        var other = fixture.Apps.Other.ToString();
        var (report, output) = await BrowserRunner.RunScriptAsync("cors.mjs", new
        {
            pan = fixture.Server.HttpUri.ToString(),
            pages = new[] { allowed, other },
            displayName = "corsweb" + Guid.NewGuid().ToString("N")[..6],
        });

        Assert.True(report.GetProperty("ok").GetBoolean(), output);
        var pages = report.GetProperty("pages");
        foreach (var call in Calls)
        {
            var read = pages.GetProperty(allowed).GetProperty(call);
            Assert.True(read.GetProperty("read").GetBoolean(), $"{call} from the allowed origin: {read}\n{output}");
            Assert.Equal(200, read.GetProperty("status").GetInt32());

            var refused = pages.GetProperty(other).GetProperty(call);
            Assert.False(refused.GetProperty("read").GetBoolean(), $"{call} from another origin: {refused}\n{output}");
            Assert.StartsWith("TypeError", refused.GetProperty("error").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal("0", pages.GetProperty(allowed).GetProperty("grpcWeb").GetProperty("grpcStatus").GetString());
        Assert.Equal("0", pages.GetProperty(allowed).GetProperty("grpcWebPrefixed").GetProperty("grpcStatus").GetString());
        Assert.Equal(fixture.Server.HttpUri.ToString(), pages.GetProperty(allowed).GetProperty("discovery").GetProperty("issuer").GetString());
    }
}

public sealed class BrowserCorsBehaviour_Sqlite(SqliteCorsBrowserFixture f) : BrowserCorsBehaviour<SqliteCorsBrowserFixture>(f);

public sealed class BrowserCorsBehaviour_Postgres(PostgresCorsBrowserFixture f) : BrowserCorsBehaviour<PostgresCorsBrowserFixture>(f);
