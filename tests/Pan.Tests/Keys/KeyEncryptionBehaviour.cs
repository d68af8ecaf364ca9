using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.OAuth;
using Pan.Data.Pages;
using Pan.Data.Tokens;
using Pan.Server.Keys;
using Pan.Server.OAuth;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Keys;

/// <summary>Makes a fresh database per test, so each test can restart servers on it with other keys.</summary>
public interface ITestDatabases
{
    Task<ITestDatabase> CreateAsync();
}

public sealed class SqliteDatabases : ITestDatabases
{
    public Task<ITestDatabase> CreateAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresDatabases : ITestDatabases
{
    public async Task<ITestDatabase> CreateAsync() => await PostgresTestDatabase.CreateAsync();
}

/// <summary>
/// Stored keys (auth-token signing keys, OAuth keys, Data Protection keys) are wrapped with Pan:Keys:EncryptionKey:
/// the raw rows hold no key material, restarts keep every key, plain rows are wrapped at the next start, a rotation
/// re-wraps, and a row the configured keys cannot unwrap stops start-up.
/// </summary>
public abstract class KeyEncryptionBehaviour<TDatabases>
    where TDatabases : ITestDatabases, new()
{
    private const string Purpose = "pan-key-tests";

    [Fact]
    public async Task WithAKey_StoredRowsHoldNoKeyMaterial_AndTokensSurviveARestart()
    {
        await using var database = await new TDatabases().CreateAsync();
        Before before;
        await using (var first = await StartAsync(database, TestKeys.First))
        {
            before = await UseKeysAsync(first);
            var rows = await RowsAsync(first);
            Assert.All(rows.Signing, r => AssertWrapped(r.Secret, TestKeys.First));
            Assert.All(rows.OAuth, r => AssertWrapped(r.Material, TestKeys.First));
            Assert.DoesNotContain(rows.Signing, r => Contains(r.Secret, before.SigningSecret));
            Assert.All(before.OAuthMaterial, m => Assert.DoesNotContain(rows.OAuth, r => Contains(r.Material, m)));
            Assert.NotEmpty(rows.DataProtection);
            Assert.All(rows.DataProtection, x =>
            {
                Assert.Contains("panWrapped", x, StringComparison.Ordinal);
                Assert.DoesNotContain("requiresEncryption", x, StringComparison.Ordinal);
            });
        }

        await using var second = await StartAsync(database, TestKeys.First);
        await AssertStillWorksAsync(second, before);
    }

    [Fact]
    public async Task PlainRowsFromBefore_AreWrappedAtTheNextStart_AndStillWork()
    {
        await using var database = await new TDatabases().CreateAsync();
        Before before;
        await using (var plain = await StartAsync(database, null))
        {
            before = await UseKeysAsync(plain);
            var rows = await RowsAsync(plain);
            Assert.Contains(rows.Signing, r => r.Secret.AsSpan().SequenceEqual(before.SigningSecret));
            Assert.Contains(rows.DataProtection, x => x.Contains("requiresEncryption", StringComparison.Ordinal));
        }

        await using var wrapped = await StartAsync(database, TestKeys.First);
        var after = await RowsAsync(wrapped);
        Assert.All(after.Signing, r => AssertWrapped(r.Secret, TestKeys.First));
        Assert.All(after.OAuth, r => AssertWrapped(r.Material, TestKeys.First));
        Assert.All(after.DataProtection, x => Assert.DoesNotContain("requiresEncryption", x, StringComparison.Ordinal));
        var signing = Assert.Single(after.Signing);
        Assert.Equal(before.SigningSecret, KeyEnvelope.Open(Convert.FromBase64String(TestKeys.First), signing.Secret, KeyContexts.For(signing)));
        await AssertStillWorksAsync(wrapped, before);
    }

    [Theory]
    [InlineData(TestKeys.Second)]
    [InlineData(null)]
    public async Task AWrappedRowWithoutItsKey_StopsStartUp_NamingTheSetting(string? key)
    {
        await using var database = await new TDatabases().CreateAsync();
        await using (var first = await StartAsync(database, TestKeys.First))
        {
            await UseKeysAsync(first);
        }

        var ex = await Record.ExceptionAsync(() => StartAsync(database, key));
        var refused = Assert.IsType<KeyEncryptionException>(ex);
        Assert.Contains("Pan:Keys:EncryptionKey", refused.Message, StringComparison.Ordinal);

        // Why: refusing must not have replaced the keys (which would sign everyone out); the right key still works.
        await using var again = await StartAsync(database, TestKeys.First);
        var rows = await RowsAsync(again);
        Assert.Single(rows.Signing);
        Assert.All(rows.Signing, r => AssertWrapped(r.Secret, TestKeys.First));
    }

    /// <summary>
    /// An app's event signing secret is a stored key like the others: made plain while no key-encryption key is set,
    /// wrapped at the next start with one, re-wrapped by a rotation, and readable once the old key is gone.
    /// </summary>
    [Fact]
    public async Task AnAppsEventSecret_FromBefore_IsWrappedAtTheNextStart_AndRewrappedByARotation()
    {
        await using var database = await new TDatabases().CreateAsync();
        await using (await StartAsync(database, null))
        {
        }

        var run = await PanCli.RunAsync(database, "apps", "events", "avplus", "--url", "https://events.example.com/pan");
        Assert.Equal(0, run.ExitCode);
        var previous = System.Buffers.Text.Base64Url.DecodeFromChars(PanCli.Secret(run).AsSpan("whsec_".Length));
        // A rotation keeps the secret it replaces for the overlap: that one is a stored key too.
        run = await PanCli.RunAsync(database, "apps", "events", "avplus", "--rotate-secret");
        Assert.Equal(0, run.ExitCode);
        var material = System.Buffers.Text.Base64Url.DecodeFromChars(PanCli.Secret(run).AsSpan("whsec_".Length));
        await using (var wrapping = await StartAsync(database, TestKeys.First))
        {
            var row = await SubscriptionAsync(wrapping);
            AssertWrapped(row.Secret, TestKeys.First);
            AssertWrapped(row.PreviousSecret!, TestKeys.First);
            Assert.Equal(material, KeyEnvelope.Open(Convert.FromBase64String(TestKeys.First), row.Secret, KeyContexts.For(row)));
            Assert.Equal(previous, KeyEnvelope.Open(Convert.FromBase64String(TestKeys.First), row.PreviousSecret!, KeyContexts.ForPrevious(row)));
        }

        await using (var rotating = await StartAsync(database, TestKeys.Second, TestKeys.First))
        {
            AssertWrapped((await SubscriptionAsync(rotating)).Secret, TestKeys.Second);
            AssertWrapped((await SubscriptionAsync(rotating)).PreviousSecret!, TestKeys.Second);
        }

        await using var after = await StartAsync(database, TestKeys.Second);
        var last = await SubscriptionAsync(after);
        Assert.Equal(material, KeyEnvelope.Open(Convert.FromBase64String(TestKeys.Second), last.Secret, KeyContexts.For(last)));
        Assert.Equal(previous, KeyEnvelope.Open(Convert.FromBase64String(TestKeys.Second), last.PreviousSecret!, KeyContexts.ForPrevious(last)));
    }

    [Fact]
    public async Task ARotationWithPreviousKeys_RewrapsEveryRow_WithTheNewKey()
    {
        await using var database = await new TDatabases().CreateAsync();
        Before before;
        await using (var first = await StartAsync(database, TestKeys.First))
        {
            before = await UseKeysAsync(first);
        }

        await using (var rotating = await StartAsync(database, TestKeys.Second, TestKeys.Third, TestKeys.First))
        {
            var rows = await RowsAsync(rotating);
            Assert.All(rows.Signing, r => AssertWrapped(r.Secret, TestKeys.Second));
            Assert.All(rows.OAuth, r => AssertWrapped(r.Material, TestKeys.Second));
            await AssertStillWorksAsync(rotating, before);
        }

        // Why: with the old key gone, only rows re-wrapped by the rotation (Data Protection's included) can be read.
        await using var after = await StartAsync(database, TestKeys.Second);
        await AssertStillWorksAsync(after, before);
    }

    [Fact]
    public async Task ANodeStillOnStepOneOfARotation_NeverWrapsBackToTheOldKey()
    {
        await using var database = await new TDatabases().CreateAsync();
        Before before;
        await using (var first = await StartAsync(database, TestKeys.First))
        {
            before = await UseKeysAsync(first);
        }

        // Step 1: every node learns the next key; nothing is re-wrapped yet, since a node not restarted yet could not read it.
        await using (var stepOne = await StartWithNextAsync(database, TestKeys.First, TestKeys.Second))
        {
            var rows = await RowsAsync(stepOne);
            Assert.All(rows.Signing, r => AssertWrapped(r.Secret, TestKeys.First));
            Assert.All(rows.OAuth, r => AssertWrapped(r.Material, TestKeys.First));
        }

        // Step 2: the first node with the new key re-wraps every row.
        await using (var stepTwo = await StartAsync(database, TestKeys.Second, TestKeys.First))
        {
            await AssertStillWorksAsync(stepTwo, before);
        }

        // Why: a node that restarts with step 1's settings during step 2 (a crash, an old replica) must neither re-wrap
        // the rows back to the old key nor wrap the keys it makes with it: step 3 removes that key.
        long generation;
        await using (var stale = await StartWithNextAsync(database, TestKeys.First, TestKeys.Second))
        {
            var rows = await RowsAsync(stale);
            Assert.All(rows.Signing, r => AssertWrapped(r.Secret, TestKeys.Second));
            Assert.All(rows.OAuth, r => AssertWrapped(r.Material, TestKeys.Second));
            await using var scope = stale.Services.CreateAsyncScope();
            var ring = stale.Services.GetRequiredService<OAuthKeyRing>();
            (generation, _) = await ring.RotateAsync(scope.ServiceProvider.GetRequiredService<PanDbContext>(), ring.NewMaterial(), default);
            var made = await RowsAsync(stale);
            Assert.Contains(made.OAuth, r => r.Generation == generation);
            Assert.All(made.OAuth, r => AssertWrapped(r.Material, TestKeys.Second));
        }

        // Step 3: the old key is gone; every row, the stale node's new keys included, is still readable.
        await using var after = await StartAsync(database, TestKeys.Second);
        await AssertStillWorksAsync(after, before, rotated: true);
        Assert.Contains(await after.Services.GetRequiredService<OAuthKeyRing>().EnsureAsync(default), k => k.Generation == generation);
    }

    /// <summary>
    /// Two nodes loading the Data Protection key ring at once on a store with no key, in the order that split them:
    /// the first reads the empty store, the second reads it too (a moment later) and the first then stores its key and
    /// reads the ring back before the second stores its own. Both must end up protecting with one key, or the first
    /// (holding only its own) refuses every form the second serves, once its first two minutes are over, until its
    /// ring is next re-read (24 h). One key is kept in the store.
    /// </summary>
    [Fact]
    public async Task TwoKeyRingsLoadingAtOnceOnAnEmptyStore_ProtectWithOneKey()
    {
        await using var database = await new TDatabases().CreateAsync();
        await using var server = await StartAsync(database, null);
        await TestMembers.WithDbAsync(server, db => db.Set<DataProtectionKey>().ExecuteDeleteAsync());
        var scopes = server.Services.GetRequiredService<IServiceScopeFactory>();

        var secondRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstStore = new GatedRepository(new Pan.Server.Pages.DatabaseXmlRepository(scopes), beforeStore: () => secondRead.Task.Wait(TimeSpan.FromSeconds(30)));
        var secondStore = new GatedRepository(new Pan.Server.Pages.DatabaseXmlRepository(scopes), beforeStore: () =>
        {
            secondRead.TrySetResult();
            firstDone.Task.Wait(TimeSpan.FromSeconds(30));
        });
        using var first = Provider(firstStore);
        using var second = Provider(secondStore);

        var firstProtect = Task.Run(() => first.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).Protect([1]));
        // Why: the second's clock reading must come after the first's, so the key it makes is the newer one.
        await Task.Delay(50);
        var secondProtect = Task.Run(() => second.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).Protect([2]));
        var fromFirst = await firstProtect;
        firstDone.TrySetResult();
        var fromSecond = await secondProtect;

        // A protected payload is a 4-byte magic header and then the 16-byte id of the key that protected it.
        static Guid KeyOf(byte[] payload) => new(payload.AsSpan(4, 16));
        Assert.Equal(KeyOf(fromFirst), KeyOf(fromSecond));
        Assert.Equal([1], first.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).Unprotect(fromFirst));
        Assert.Equal([2], first.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).Unprotect(fromSecond));
        Assert.Single((await RowsAsync(server)).DataProtection);

        static ServiceProvider Provider(Microsoft.AspNetCore.DataProtection.Repositories.IXmlRepository store)
        {
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddDataProtection().SetApplicationName("pan");
            services.Configure<Microsoft.AspNetCore.DataProtection.KeyManagement.KeyManagementOptions>(o => o.XmlRepository = store);
            return services.BuildServiceProvider();
        }
    }

    /// <summary>A key store that runs <c>beforeStore</c> before each key it is given reaches the database.</summary>
    private sealed class GatedRepository(Microsoft.AspNetCore.DataProtection.Repositories.IXmlRepository inner, Action beforeStore)
        : Microsoft.AspNetCore.DataProtection.Repositories.IXmlRepository
    {
        public IReadOnlyCollection<System.Xml.Linq.XElement> GetAllElements() => inner.GetAllElements();

        public void StoreElement(System.Xml.Linq.XElement element, string friendlyName)
        {
            beforeStore();
            inner.StoreElement(element, friendlyName);
        }
    }

    private static Task<PanServer> StartWithNextAsync(ITestDatabase database, string? key, string next) =>
        PanServer.StartAsync(database, new Dictionary<string, string?> { [TestKeys.Setting] = key, ["Pan:Keys:NextEncryptionKey"] = next });

    private static Task<PanServer> StartAsync(ITestDatabase database, string? key, params string[] previous)
    {
        var settings = new Dictionary<string, string?> { [TestKeys.Setting] = key };
        for (var i = 0; i < previous.Length; i++)
        {
            settings[$"Pan:Keys:PreviousEncryptionKeys:{i}"] = previous[i];
        }

        return PanServer.StartAsync(database, settings);
    }

    /// <summary>Signs an auth token, loads the OAuth keys and protects a payload with Data Protection.</summary>
    private static async Task<Before> UseKeysAsync(PanServer server)
    {
        var member = await TestMembers.CreateAsync(server);
        var token = await TestMembers.AuthTokenAsync(server, member);
        var ring = server.Services.GetRequiredService<SigningKeyRing>();
        var signing = await ring.GetSigningKeyAsync(default);
        var oauth = await server.Services.GetRequiredService<OAuthKeyRing>().EnsureAsync(default);
        var protectedPayload = server.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).Protect("kept");
        return new(token, signing.Key.Key, oauth.Select(k => k.Material).ToList(), protectedPayload);
    }

    private static async Task AssertStillWorksAsync(PanServer server, Before before, bool rotated = false)
    {
        await using var scope = server.Services.CreateAsyncScope();
        Assert.NotNull(await scope.ServiceProvider.GetRequiredService<TokenService>().ValidateAuthTokenAsync(before.AuthToken, default));
        var oauth = await server.Services.GetRequiredService<OAuthKeyRing>().EnsureAsync(default);
        if (rotated)
        {
            // Why: a rotation adds a generation in front; the keys from before are still live behind it.
            Assert.All(before.OAuthMaterial, m => Assert.Contains(oauth, k => k.Material.AsSpan().SequenceEqual(m)));
        }
        else
        {
            Assert.Equal(before.OAuthMaterial, oauth.Select(k => k.Material).ToList());
        }

        Assert.Equal("kept", server.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).Unprotect(before.DataProtected));
    }

    private static Task<Rows> RowsAsync(PanServer server) => TestMembers.WithDbAsync(server, async db => new Rows(
        await db.Set<SigningKey>().AsNoTracking().ToListAsync(),
        await db.Set<OAuthKey>().AsNoTracking().ToListAsync(),
        await db.Set<DataProtectionKey>().AsNoTracking().Select(k => k.Xml).ToListAsync()));

    private static Task<Pan.Data.AppEvents.AppEventSubscription> SubscriptionAsync(PanServer server) =>
        TestMembers.WithDbAsync(server, db => db.Set<Pan.Data.AppEvents.AppEventSubscription>().AsNoTracking().SingleAsync());

    private static void AssertWrapped(byte[] stored, string key)
    {
        Assert.True(KeyEnvelope.IsEnvelope(stored));
        Assert.Equal(KeyEnvelope.KeyId(Convert.FromBase64String(key)), KeyEnvelope.WrappedBy(stored).ToArray());
    }

    private static bool Contains(byte[] stored, byte[] material) => stored.AsSpan().IndexOf(material) >= 0;

    private sealed record Before(string AuthToken, byte[] SigningSecret, List<byte[]> OAuthMaterial, string DataProtected);

    private sealed record Rows(List<SigningKey> Signing, List<OAuthKey> OAuth, List<string> DataProtection);
}

public sealed class KeyEncryptionBehaviour_Sqlite : KeyEncryptionBehaviour<SqliteDatabases>;

public sealed class KeyEncryptionBehaviour_Postgres : KeyEncryptionBehaviour<PostgresDatabases>;
