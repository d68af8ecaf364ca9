using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.Apps;
using Pan.Server.Apps;
using Pan.Tests.Admin;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Apps;

/// <summary>The app registry: seeded rows, secret checks (what the passport scanner and the hand-off rely on), rotation.</summary>
public abstract class AppRegistryBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : AdminFixture
{
    [Fact]
    public async Task Registry_AfterStartUp_HoldsEveryAppOfTheContract()
    {
        var apps = await TestMembers.WithDbAsync(fixture.Server, db => db.Set<StoredApp>().AsNoTracking().ToListAsync());

        Assert.Equal(
            new[] { "jkforum", "jkfpost", "jkfstar", "jkface", "jr24h", "jktalk", "jcontrol", "shop24h", "sugar", "jktank", "avplus" }.Order(StringComparer.Ordinal),
            apps.Select(a => a.AppId).Order(StringComparer.Ordinal));
        Assert.Null(apps.Single(a => a.AppId == "jktalk").SecretHash);
        Assert.Equal(32, apps.Single(a => a.AppId == "jkforum").SecretHash!.Length);
    }

    [Theory]
    [InlineData("jkforum")]
    [InlineData("JKForum")]
    [InlineData("1")]
    public async Task Authenticate_WithTheAppsSecret_ReturnsTheAppAndItsHosts(string appId)
    {
        var app = await AuthenticateAsync(appId, fixture.ForumSecret);

        Assert.NotNull(app);
        Assert.Equal(("jkforum", "JKForum"), (app.AppId, app.Name));
        Assert.Equal([AdminFixture.ForumHost, "127.0.0.1"], app.AllowedAuthUrlHosts);
    }

    [Theory]
    [InlineData("jkforum", "")]
    [InlineData("jkforum", null)]
    [InlineData("jkforum", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("jkforum", "SHOP")]
    [InlineData("jktalk", "FORUM")]
    [InlineData("", "FORUM")]
    [InlineData(null, "FORUM")]
    [InlineData("nosuchapp", "FORUM")]
    public async Task Authenticate_WithAnythingButTheAppsOwnSecret_ReturnsNull(string? appId, string? secret)
    {
        secret = secret switch { "SHOP" => fixture.ShopSecret, "FORUM" => fixture.ForumSecret, _ => secret };

        Assert.Null(await AuthenticateAsync(appId, secret));
    }

    [Fact]
    public async Task Authenticate_WithAnOversizedSecret_ReturnsNull()
    {
        Assert.Null(await AuthenticateAsync("jkforum", fixture.ForumSecret + new string('A', 1_000_000)));
    }

    [Fact]
    public async Task RotateSecret_EndsTheOldSecretAtOnce()
    {
        var first = PanCli.Secret(await PanCli.RunAsync(fixture.Database, "apps", "add", "jkfstar", "--name", "Star", "--auth-host", "star.example.com"));
        var rotated = await PanCli.RunAsync(fixture.Database, "apps", "rotate-secret", "jkfstar");
        var second = PanCli.Secret(rotated);

        Assert.Equal(0, rotated.ExitCode);
        Assert.NotEqual(first, second);
        Assert.Null(await AuthenticateAsync("jkfstar", first));
        Assert.NotNull(await AuthenticateAsync("jkfstar", second));
    }

    [Theory]
    [InlineData("add", "jcontrol", "--name", "Control")]
    [InlineData("update", "jkforum")]
    public async Task AppsCommand_WithAHostListLongerThanTheRegistryHolds_IsAUsageError_AndChangesNothing(params string[] command)
    {
        // 16 valid host names of 137 characters: within the 20-host limit, but 2,207 characters stored.
        var hosts = string.Join(',', Enumerable.Range(10, 16).Select(i => $"h{i}.{new string('a', 60)}.{new string('b', 60)}.example.com"));
        var before = await TestMembers.WithDbAsync(fixture.Server, db => db.Set<StoredApp>().AsNoTracking().SingleAsync(a => a.AppId == command[1]));

        var run = await PanCli.RunAsync(fixture.Database, ["apps", .. command, "--auth-host", hosts]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--auth-host", run.Error, StringComparison.Ordinal);
        var after = await TestMembers.WithDbAsync(fixture.Server, db => db.Set<StoredApp>().AsNoTracking().SingleAsync(a => a.AppId == command[1]));
        Assert.Equal(before.AuthHosts, after.AuthHosts);
        Assert.Equal(before.SecretHash, after.SecretHash);
    }

    private async Task<RegisteredApp?> AuthenticateAsync(string? appId, string? secret)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AppRegistry>().AuthenticateAsync(appId, secret, default);
    }
}

public sealed class AppRegistryBehaviour_Sqlite(SqliteAdminFixture f) : AppRegistryBehaviour<SqliteAdminFixture>(f);

public sealed class AppRegistryBehaviour_Postgres(PostgresAdminFixture f) : AppRegistryBehaviour<PostgresAdminFixture>(f);
