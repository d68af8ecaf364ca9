using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Pan.Server.Hosting;
using Pan.Tests.Infrastructure;
using Pan.Tests.OAuth;

namespace Pan.Tests.Cors;

/// <summary>
/// A server whose browser apps are <see cref="AllowedOrigin"/> (configured with another case and the default port, as
/// an operator may write it) and <see cref="LoopbackOrigin"/>, with the OAuth provider and its clients of
/// <see cref="OAuthFixture"/> and every log line captured with the access log on.
/// </summary>
public abstract class CorsFixture : OAuthFixture
{
    /// <summary>How a browser on the forum sends its Origin.</summary>
    public const string AllowedOrigin = "https://forum.example";

    public const string LoopbackOrigin = "http://127.0.0.1:5173";

    public LogCapture Logs { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(ProviderSettings())
    {
        ["Pan:Cors:AllowedOrigins:0"] = "HTTPS://Forum.Example:443",
        ["Pan:Cors:AllowedOrigins:1"] = LoopbackOrigin,
        ["Logging:LogLevel:" + RequestLog.Category] = nameof(LogLevel.Information),
    };

    protected override void ConfigureServer(WebApplicationBuilder builder) => builder.Logging.AddProvider(Logs);
}

public sealed class SqliteCorsFixture : CorsFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresCorsFixture : CorsFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}
