using Microsoft.Extensions.Options;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Omniauth;

/// <summary>Start-up validation of <c>Pan:Omniauth</c>: a bad setting stops the server with a message naming it.</summary>
public sealed class OmniauthStartupTests
{
    [Theory]
    [InlineData("Pan:Omniauth:Facebook:GraphBaseUrl", "ftp://graph.example.com", "Pan:Omniauth:Facebook:GraphBaseUrl must be an absolute http(s) URL")]
    [InlineData("Pan:Omniauth:TimeoutSeconds", "0", "Pan:Omniauth:TimeoutSeconds must be between 0.05 and 60")]
    [InlineData("Pan:Omniauth:AccessTokenSeconds", "10", "Pan:Omniauth:AccessTokenSeconds must be between 60 and 2592000")]
    [InlineData("Pan:Omniauth:EmailExisted:CaptchaAfterPerIpPerHour", "-1", "Pan:Omniauth:EmailExisted:CaptchaAfterPerIpPerHour must be at least 0")]
    [InlineData("Pan:Omniauth:Twitter:Apps:com.example.app:ConsumerKey", "key-without-secret", "Pan:Omniauth:Twitter:Apps:com.example.app needs both ConsumerKey and ConsumerSecret")]
    [InlineData("Pan:Omniauth:LinkedIn:IntrospectionUrl", "not a url", "Pan:Omniauth:LinkedIn:IntrospectionUrl must be an absolute http(s) URL")]
    [InlineData("Pan:Omniauth:LinkedIn:ClientId", "86linkedin", "Pan:Omniauth:LinkedIn:ClientId and ClientSecret must be set together")]
    [InlineData("Pan:Omniauth:LinkedIn:ClientSecret", "secret-without-id", "Pan:Omniauth:LinkedIn:ClientId and ClientSecret must be set together")]
    [InlineData("Pan:Omniauth:Microsoft:JwksUrl", "ftp://keys.example.com", "Pan:Omniauth:Microsoft:JwksUrl must be an absolute http(s) URL")]
    [InlineData("Pan:Omniauth:Microsoft:ClientIds:0", " ", "Pan:Omniauth:Microsoft:ClientIds must not have an empty entry")]
    public async Task Server_WithABadOmniauthSetting_DoesNotStart(string key, string value, string expected)
    {
        await using var database = new SqliteTestDatabase();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => PanServer.StartAsync(database, new Dictionary<string, string?> { [key] = value }));

        Assert.Contains(ex.Failures, f => f.Contains(expected, StringComparison.Ordinal));
    }
}
