using Pan.Tests.Infrastructure;

namespace Pan.Tests.Passkeys;

/// <summary>Pan:Passkeys is checked when the server starts: a half-configured relying party stops it, naming the setting.</summary>
public sealed class PasskeyStartupTests : IAsyncDisposable
{
    private readonly SqliteTestDatabase database = new();

    public static TheoryData<string, string?, string?, string?> Broken => new()
    {
        // setting named in the failure, RelyingPartyId, RelyingPartyName, Origins:0
        { "Pan:Passkeys:RelyingPartyId", null, "Pan", "https://example.com" },
        { "Pan:Passkeys:RelyingPartyId", "https://example.com", "Pan", "https://example.com" },
        { "Pan:Passkeys:RelyingPartyId", "Example.com", "Pan", "https://example.com" },
        { "Pan:Passkeys:RelyingPartyName", "example.com", null, "https://example.com" },
        { "Pan:Passkeys:Origins must list", "example.com", "Pan", null },
        { "Pan:Passkeys:Origins: 'https://example.org'", "example.com", "Pan", "https://example.org" },
        { "Pan:Passkeys:Origins: 'http://example.com'", "example.com", "Pan", "http://example.com" },
        { "Pan:Passkeys:Origins: 'https://example.com/login'", "example.com", "Pan", "https://example.com/login" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public async Task AHalfOrWronglyConfiguredRelyingParty_RefusesToStart_NamingTheSetting(string named, string? rpId, string? rpName, string? origin)
    {
        var message = await StartupProbe.FailureAsync(() => StartupProbe.Build("Testing", StartupProbe.Core(database.ConnectionString),
            new Dictionary<string, string?>
            {
                ["Pan:Passkeys:RelyingPartyId"] = rpId,
                ["Pan:Passkeys:RelyingPartyName"] = rpName,
                ["Pan:Passkeys:Origins:0"] = origin,
            }.Where(s => s.Value is not null).ToDictionary()));

        Assert.Contains(named, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOutOfRangeLimit_RefusesToStart_NamingIt()
    {
        var message = await StartupProbe.FailureAsync(() => StartupProbe.Build("Testing", StartupProbe.Core(database.ConnectionString),
            new Dictionary<string, string?> { ["Pan:Passkeys:MaxPerMember"] = "0" }));

        Assert.Contains("Pan:Passkeys:MaxPerMember must be 1–100", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("discouraged")]
    [InlineData("yes")]
    [InlineData("")]
    public async Task AnUnknownUserVerification_RefusesToStart_NamingIt(string value)
    {
        var message = await StartupProbe.FailureAsync(() => StartupProbe.Build("Testing", StartupProbe.Core(database.ConnectionString),
            new Dictionary<string, string?> { ["Pan:Passkeys:UserVerification"] = value }));

        Assert.Contains("Pan:Passkeys:UserVerification", message, StringComparison.Ordinal);
    }

    public ValueTask DisposeAsync() => database.DisposeAsync();
}
