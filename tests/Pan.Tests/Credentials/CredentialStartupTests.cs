using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;
using Pan.Server.Credentials;
using Pan.Server.Hosting;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Credentials;

/// <summary>Start-up validation of the Argon2id cost (SECURITY 2: at least m=19 MiB, t=2 outside tests).</summary>
public sealed class CredentialStartupTests
{
    [Fact]
    public void WeakParameters_WithoutTheTestSwitch_AreRefused()
    {
        var result = Validate(Environments.Staging, new Argon2Options { MemoryKiB = 8, Iterations = 1 });
        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("MemoryKiB must be at least 19456", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("Iterations must be at least 2", StringComparison.Ordinal));
    }

    [Fact]
    public void Defaults_AndWeakParametersWithTheSwitchOutsideProduction_AreAccepted()
    {
        Assert.True(Validate(Environments.Production, new Argon2Options()).Succeeded);
        Assert.True(Validate("Testing", new Argon2Options { MemoryKiB = 8, Iterations = 1, AllowWeakForTests = true }).Succeeded);
    }

    [Fact]
    public void TheTestSwitch_IsRefusedInProduction()
    {
        var result = Validate(Environments.Production, new Argon2Options { AllowWeakForTests = true });
        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("AllowWeakForTests", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Staging", "Pan:Passwords:Argon2:MemoryKiB", "1024", "MemoryKiB must be at least 19456")]
    [InlineData("Production", "Pan:Passwords:Argon2:AllowWeakForTests", "true", "AllowWeakForTests must not be set in Production")]
    public async Task Server_WithWeakSettings_DoesNotStart(string environment, string key, string value, string expected)
    {
        await using var database = new SqliteTestDatabase();
        WebApplication? app = null;
        try
        {
            var ex = await Record.ExceptionAsync(async () =>
            {
                app = PanApp.Build([$"--environment={environment}"], builder => builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["Kestrel:Endpoints:Http:Url"] = "http://127.0.0.1:0",
                    ["ConnectionStrings:Pan"] = database.ConnectionString,
                    ["Pan:Database:Provider"] = "sqlite",
                    ["Pan:Hashids:Salt"] = "pan-tests-salt",
                    ["Pan:Sms:Provider"] = "webhook",
                    ["Pan:Sms:Webhook:Url"] = "http://127.0.0.1:9/",
                    // Why: a Production server needs the key-encryption key; these tests are about other settings.
                    [Keys.TestKeys.Setting] = Keys.TestKeys.First,
                    ["Logging:LogLevel:Default"] = "None",
                    [key] = value,
                }));
                await app.StartAsync();
            });
            Assert.NotNull(ex);
            Assert.Contains(expected, ex.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }
        }
    }

    private static ValidateOptionsResult Validate(string environment, Argon2Options options) =>
        new Argon2OptionsValidator(new HostingEnvironment { EnvironmentName = environment }).Validate(null, options);
}
