using Pan.Tests.Infrastructure;
using Pan.Tests.PhoneFlows;

namespace Pan.Tests.SignInPages;

/// <summary>A phone-flow server (SMS to a real webhook listener) whose suites may start extra nodes with a setting changed.</summary>
public abstract class SignInPagesFixture : PhoneFlowFixture
{
    /// <summary>Another node on the same database with this fixture's settings plus <paramref name="changes"/>.</summary>
    public Task<PanServer> StartNodeWithAsync(params (string Key, string Value)[] changes)
    {
        var settings = new Dictionary<string, string?>(Settings);
        foreach (var (key, value) in changes)
        {
            settings[key] = value;
        }

        return StartNodeAsync(settings);
    }
}

public sealed class SqliteSignInPagesFixture : SignInPagesFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresSignInPagesFixture : SignInPagesFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}
