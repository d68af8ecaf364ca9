using Microsoft.Extensions.DependencyInjection;
using Pan.Server.Passport;
using Pan.Tests.PhoneFlows;

namespace Pan.Tests.Infrastructure;

/// <summary>
/// The phone-flow server (SMS to a loopback inbox) plus what the member extras need: a temporary avatar folder, a
/// public base URL, a small address-book cap, and a second node — the "scanner" — whose app check accepts
/// <see cref="ScannerAppId"/> / <see cref="ScannerSecret"/> (a test double of <see cref="IAppAuthenticator"/>, since the
/// app registry is another feature's). Both nodes share the database, the avatar folder and the clock.
/// </summary>
public abstract class ExtrasFixture : PhoneFlowFixture
{
    public const string PublicBaseUrl = "https://pan.example.test";
    public const string ScannerAppId = "jkface";
    public const string ScannerSecret = "scanner-secret-for-tests-only";
    public const int MaxAddressBooks = 5;

    private readonly string avatarFolder = Directory.CreateTempSubdirectory("pan-avatars-").FullName;

    /// <summary>A node on the same database and clock whose callers may authenticate as the scanner app.</summary>
    public PanServer Scanner { get; private set; } = null!;

    public string AvatarFolder => avatarFolder;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Pan:Avatars:Store"] = "filesystem",
        ["Pan:Avatars:Folder"] = avatarFolder,
        ["Pan:Links:PublicBaseUrl"] = PublicBaseUrl + "/",
        ["Pan:AddressBooks:MaxPerMember"] = MaxAddressBooks.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Scanner = await PanServer.StartAsync(Database, Settings, Server.Clock,
            builder => builder.Services.AddSingleton<IAppAuthenticator>(new OneApp(ScannerAppId, ScannerSecret)));
    }

    public override async Task DisposeAsync()
    {
        if (Scanner is not null)
        {
            await Scanner.DisposeAsync();
        }

        await base.DisposeAsync();
        Directory.Delete(avatarFolder, recursive: true);
    }

    /// <summary>An app registry that knows one app and its secret.</summary>
    private sealed class OneApp(string appId, string secret) : IAppAuthenticator
    {
        public Task<string?> AuthenticateAsync(string? id, string? appSecret, CancellationToken cancellationToken) =>
            Task.FromResult(id == appId && appSecret == secret ? appId : null);
    }
}

public sealed class SqliteExtrasFixture : ExtrasFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresExtrasFixture : ExtrasFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}
