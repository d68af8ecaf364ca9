using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Pan.Server.Hosting;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.SignInPages;

/// <summary>The member cookie's Secure flag fails closed: a Production server refuses to drop it.</summary>
public sealed class SignInOptionsTests
{
    [Theory]
    [InlineData("Production", "SameAsRequest", false)]
    [InlineData("Production", "Always", true)]
    [InlineData("Development", "SameAsRequest", true)]
    public async Task CookieSecure_SameAsRequest_StopsAProductionServer(string environment, string secure, bool starts)
    {
        await using var database = new SqliteTestDatabase();
        await using var app = PanApp.Build([$"--environment={environment}"], builder => builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Http:Url"] = "http://127.0.0.1:0",
            ["Kestrel:Endpoints:Grpc:Url"] = "http://127.0.0.1:0",
            ["Kestrel:Endpoints:Grpc:Protocols"] = "Http2",
            ["ConnectionStrings:Pan"] = database.ConnectionString,
            ["Pan:Database:Provider"] = "sqlite",
            ["Pan:Hashids:Salt"] = "pan-tests-salt",
            ["Pan:Sms:Provider"] = "webhook",
            ["Pan:Sms:Webhook:Url"] = "https://sms.example/send",
            ["Pan:Email:Provider"] = "smtp",
            ["Pan:Email:Smtp:Host"] = "smtp.example.com",
            ["Pan:Email:Smtp:From"] = "Pan <no-reply@example.com>",
            // Why loopback in Development: appsettings.Development.json serves the OAuth provider over http on loopback.
            ["Pan:Links:PublicBaseUrl"] = environment == "Development" ? "http://127.0.0.1:5080" : "https://id.example.com",
            ["Pan:SignIn:CookieSecure"] = secure,
            // Why: a Production server needs the key-encryption key; these tests are about other settings.
            [Keys.TestKeys.Setting] = Keys.TestKeys.First,
            ["Logging:LogLevel:Default"] = "Warning",
        }));
        if (starts)
        {
            await app.StartAsync();
            await app.StopAsync();
        }
        else
        {
            var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
            Assert.Contains("Pan:SignIn:CookieSecure", ex.Message, StringComparison.Ordinal);
        }
    }
}
