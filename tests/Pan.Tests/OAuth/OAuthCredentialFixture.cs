using Microsoft.Extensions.DependencyInjection;
using Pan.General.Admin;
using Pan.Server.Admin;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.OAuth;

/// <summary>
/// The email fixture's server (SMS webhook inbox, SMTP inbox, so members register, change and reset passwords through
/// the real flows) with the OAuth provider on http loopback and the OAuth fixture's three clients, and admins signing in
/// through a fake Google tokeninfo server. The clock starts at the real time, as in <see cref="OAuthFixture"/>.
/// </summary>
public abstract class OAuthCredentialFixture : EmailFixture
{
    public string WebSecret { get; private set; } = string.Empty;

    public FakeGoogleServer Google { get; private set; } = null!;

    protected override DateTimeOffset? ClockStart => DateTimeOffset.UtcNow;

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = new Dictionary<string, string?>(base.Settings);
            foreach (var (key, value) in OAuthFixture.ProviderSettings())
            {
                settings[key] = value;
            }

            foreach (var (key, value) in Google.Settings())
            {
                settings[key] = value;
            }

            return settings;
        }
    }

    public override async Task InitializeAsync()
    {
        Google = await FakeGoogleServer.StartAsync();
        await base.InitializeAsync();
        WebSecret = await OAuthFixture.RegisterClientsAsync(Database);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Google.DisposeAsync();
    }

    /// <summary>A new allow-listed admin with <paramref name="roles"/>, signed in through GoogleLogin; returns the admin token.</summary>
    public async Task<string> SignInNewAdminAsync(string roles)
    {
        var email = $"staff{Guid.NewGuid():N}@example.com";
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<AdminDirectory>().AddOrUpdateAsync(email, roles, default);
        }

        var response = await new AdminService.AdminServiceClient(Server.Grpc).GoogleLoginAsync(new GoogleLoginRequest { AccessToken = Google.Issue(email) });
        return response.AdminToken;
    }
}

public sealed class SqliteOAuthCredentialFixture : OAuthCredentialFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresOAuthCredentialFixture : OAuthCredentialFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}
