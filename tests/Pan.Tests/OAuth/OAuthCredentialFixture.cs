using Pan.Tests.Email;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.OAuth;

/// <summary>
/// The email fixture's server (SMS webhook inbox, SMTP inbox, so members register, change and reset passwords through
/// the real flows) with the OAuth provider on http loopback and the OAuth fixture's three clients. The clock starts at
/// the real time, as in <see cref="OAuthFixture"/>.
/// </summary>
public abstract class OAuthCredentialFixture : EmailFixture
{
    public string WebSecret { get; private set; } = string.Empty;

    protected override DateTimeOffset? ClockStart => DateTimeOffset.UtcNow;

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = new Dictionary<string, string?>(base.Settings)
            {
                ["Pan:OAuth:AllowHttpOnLoopback"] = "true",
            };
            return settings;
        }
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        WebSecret = await OAuthFixture.RegisterClientsAsync(Database);
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
