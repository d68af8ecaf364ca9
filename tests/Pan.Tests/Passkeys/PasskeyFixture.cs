using Pan.Tests.Infrastructure;

namespace Pan.Tests.Passkeys;

/// <summary>
/// The two-node extras fixture (<see cref="ExtrasFixture.Server"/> and <see cref="ExtrasFixture.Scanner"/> on one
/// database and clock) with passkeys on: relying party <see cref="RpId"/>, one origin <see cref="Origin"/>.
/// </summary>
public abstract class PasskeyFixture : ExtrasFixture
{
    public const string RpId = "pan.example.test";
    public const string Origin = "https://pan.example.test";

    /// <summary>Failed sign-ins per client address per hour: high, since every test here signs in from loopback.</summary>
    public const int FailuresPerIpPerHour = 1000;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Pan:Passkeys:RelyingPartyId"] = RpId,
        ["Pan:Passkeys:RelyingPartyName"] = "Pan tests",
        ["Pan:Passkeys:Origins:0"] = Origin,
        ["Pan:Passkeys:FailuresPerIpPerHour"] = FailuresPerIpPerHour.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Pan:Passkeys:SignInsPerIpPerHour"] = "100000",
    };
}

public sealed class SqlitePasskeyFixture : PasskeyFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresPasskeyFixture : PasskeyFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}
