using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.Credentials;
using Pan.Data.Members;
using Pan.Server.BruteForce;
using Pan.Server.Credentials;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using Pan.Tests.PhoneFlows;

namespace Pan.Tests.Credentials;

/// <summary>
/// A phone-flow server (real SMS webhook inbox) with cheap Argon2id parameters (through the explicit test switch) and
/// a short brute-force ladder: 2 free failures, then waits of 1 s, 2 s, …, locked at the 5th failure for 60 minutes.
/// </summary>
public abstract class CredentialFixture : PhoneFlowFixture
{
    public const int MaxFailures = 5;
    public const int FreeFailures = 2;

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = base.Settings;
            foreach (var (key, value) in CredentialSettings)
            {
                settings[key] = value;
            }

            return settings;
        }
    }

    /// <summary>The credential settings of this fixture, for extra nodes.</summary>
    public static Dictionary<string, string?> CredentialSettings => new()
    {
        ["Pan:Passwords:Argon2:MemoryKiB"] = "8",
        ["Pan:Passwords:Argon2:Iterations"] = "1",
        ["Pan:Passwords:Argon2:AllowWeakForTests"] = "true",
        ["Pan:BruteForce:MaxFailures"] = MaxFailures.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Pan:BruteForce:FreeFailures"] = FreeFailures.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Pan:BruteForce:LockMinutes"] = "60",
    };

    /// <summary>This fixture's settings plus <paramref name="extra"/>, for another node on the same database.</summary>
    public IDictionary<string, string?> SettingsWith(IDictionary<string, string?> extra)
    {
        var settings = Settings;
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }
}

public sealed class SqliteCredentialFixture : CredentialFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresCredentialFixture : CredentialFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}

/// <summary>Members with credentials, made through the server's own services (as another feature or an import would).</summary>
public static class TestCredentials
{
    /// <summary>A password the policy accepts for any test member.</summary>
    public const string Password = "tangerine orbit 58";

    public const string OtherPassword = "velvet harbor lantern 7";

    /// <summary>A new phone with one member whose password is <paramref name="password"/>.</summary>
    public static async Task<Member> MemberWithPasswordAsync(PanServer server, string password = Password)
    {
        var member = await TestMembers.CreateAsync(server);
        await UseAsync<CredentialStore>(server, s => s.SetPasswordAsync(member.Uid, password, null, default));
        return member;
    }

    /// <summary>Stores <paramref name="hash"/> as the member's password hash directly (an imported legacy member).</summary>
    public static Task ImportHashAsync(PanServer server, long uid, string hash) =>
        TestMembers.WithDbAsync(server, async db =>
        {
            db.Add(new MemberCredential { Uid = uid, PasswordHash = hash });
            return await db.SaveChangesAsync();
        });

    public static Task<string?> StoredHashAsync(PanServer server, long uid) =>
        TestMembers.WithDbAsync(server, db => db.Set<MemberCredential>().AsNoTracking().Where(c => c.Uid == uid).Select(c => c.PasswordHash).FirstOrDefaultAsync());

    public static Task<MemberCredential?> RowAsync(PanServer server, long uid) =>
        TestMembers.WithDbAsync(server, db => db.Set<MemberCredential>().AsNoTracking().FirstOrDefaultAsync(c => c.Uid == uid));

    public static Task<int> FailuresAsync(PanServer server, long uid) =>
        UseAsync<FailureCounter, int>(server, c => c.FailuresAsync(uid, default));

    public static async Task UseAsync<T>(PanServer server, Func<T, Task> use)
        where T : notnull
    {
        await using var scope = server.Services.CreateAsyncScope();
        await use(scope.ServiceProvider.GetRequiredService<T>());
    }

    public static async Task<TResult> UseAsync<T, TResult>(PanServer server, Func<T, Task<TResult>> use)
        where T : notnull
    {
        await using var scope = server.Services.CreateAsyncScope();
        return await use(scope.ServiceProvider.GetRequiredService<T>());
    }

}
