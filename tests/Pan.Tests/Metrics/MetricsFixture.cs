using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Pan.Tests.Infrastructure;
using Pan.Tests.OAuth;

namespace Pan.Tests.Metrics;

/// <summary>
/// The OAuth credential fixture's server (SMS and mail to loopback inboxes, the OAuth provider and its clients) with the
/// metrics listener on a loopback port of its own, and loopback trusted as a proxy so a test can send its flows from an
/// address of its choice (X-Forwarded-For).
/// </summary>
public abstract partial class MetricsFixture : OAuthCredentialFixture
{
    /// <summary>The passkey relying party of this fixture's server (passkeys on, to count their sign-ins).</summary>
    public const string PasskeyRpId = "pan.example.test", PasskeyOrigin = "https://pan.example.test";

    /// <summary>The metrics listener's address (<c>Pan:Metrics:Url</c>).</summary>
    public Uri MetricsUri { get; } = new($"http://127.0.0.1:{FreePort()}");

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = new Dictionary<string, string?>(base.Settings)
            {
                ["Pan:Metrics:Url"] = MetricsUri.ToString().TrimEnd('/'),
                ["Pan:Network:TrustedProxies:0"] = "127.0.0.1",
                ["Pan:Passkeys:RelyingPartyId"] = PasskeyRpId,
                ["Pan:Passkeys:RelyingPartyName"] = "Pan tests",
                ["Pan:Passkeys:Origins:0"] = PasskeyOrigin,
            };
            return settings;
        }
    }

    /// <summary>GET /metrics on this fixture's server's metrics listener, over real HTTP.</summary>
    public Task<Scrape> ScrapeAsync() => ScrapeAsync(MetricsUri);

    /// <summary>GET /metrics on the metrics listener at <paramref name="listener"/>, over real HTTP.</summary>
    public static async Task<Scrape> ScrapeAsync(Uri listener)
    {
        using var http = new HttpClient { BaseAddress = listener };
        using var response = await http.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new Scrape(await response.Content.ReadAsStringAsync());
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One scrape in the Prometheus text format: each sample's value by its name and labels.</summary>
public sealed partial class Scrape(string text)
{
    public string Text { get; } = text;

    /// <summary>Every label value of the samples whose name starts with <paramref name="prefix"/>.</summary>
    public IEnumerable<string> LabelValues(string prefix = "") =>
        Samples().Where(s => s.Name.StartsWith(prefix, StringComparison.Ordinal)).SelectMany(s => Labels().Matches(s.Labels).Select(m => m.Groups[2].Value));

    /// <summary>The value of the sample <paramref name="name"/> whose labels include every one of <paramref name="labels"/> (0 when none; summed when several).</summary>
    public double Value(string name, params (string Label, string Value)[] labels) =>
        Samples().Where(s => s.Name == name && labels.All(l => s.Labels.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal))).Sum(s => s.Value);

    public bool Has(string name) => Samples().Any(s => s.Name == name);

    private IEnumerable<(string Name, string Labels, double Value)> Samples() =>
        Text.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => Sample().Match(l)).Where(m => m.Success)
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value, double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture)));

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)")]
    private static partial Regex Sample();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Labels();
}

public sealed class SqliteMetricsFixture : MetricsFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresMetricsFixture : MetricsFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}
