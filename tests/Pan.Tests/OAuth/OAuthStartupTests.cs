using Microsoft.Extensions.Options;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.OAuth;

/// <summary>Start-up validation of <c>Pan:OAuth</c>: a setting naming something Pan does not know stops the server.</summary>
public sealed class OAuthStartupTests
{
    [Theory]
    [InlineData("forum")]
    [InlineData("0")]
    [InlineData(" ")]
    public async Task Server_WithAConsentAppThatIsNoAppOfTheContract_DoesNotStart(string app)
    {
        await using var database = new SqliteTestDatabase();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(
            () => PanServer.StartAsync(database, new Dictionary<string, string?> { ["Pan:OAuth:ConsentApps:0"] = "jkforum", ["Pan:OAuth:ConsentApps:1"] = app }));

        Assert.Contains(ex.Failures, f => f.Contains("Pan:OAuth:ConsentApps", StringComparison.Ordinal));
    }
}
