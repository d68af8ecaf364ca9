using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Oauth;
using Pan.Tests.Infrastructure;
using static Pan.Tests.OAuth.OAuthTestClient;
using static Pan.Tests.Infrastructure.PanCli;

namespace Pan.Tests.OAuth;

/// <summary>The <c>clients</c> operator commands, and the provider's keys: first start, two nodes, rotation.</summary>
public abstract class OAuthCliBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OAuthFixture
{
    private static readonly Dictionary<string, string?> Http = OAuthFixture.ProviderSettings();

    [Theory]
    [InlineData("--redirect-uri", "http://app.example.test/cb", "--redirect-uri http://app.example.test/cb")]
    [InlineData("--redirect-uri", "https://app.example.test/cb#x", "without a fragment")]
    [InlineData("--redirect-uri", "javascript:alert(1)", "not allowed")]
    [InlineData("--scope", "admin", "--scope admin is not one of")]
    [InlineData("--consent", "external", "--consent is explicit or implicit")]
    public async Task ClientsAdd_WithABadOption_IsUsageErrorNamingIt(string option, string value, string message)
    {
        string[] args = ["clients", "add", "bad-client", "--name", "Bad", "--redirect-uri", "https://ok.example.test/cb", "--scope", "openid", option, value];
        if (option == "--redirect-uri")
        {
            args = ["clients", "add", "bad-client", "--name", "Bad", "--scope", "openid", option, value];
        }

        var run = await PanCli.RunAsync(fixture.Database, args);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientsAddListRemove_ManageAClientAndRemovingItEndsItsFlows()
    {
        var add = await PanCli.RunAsync(fixture.Database, "clients", "add", "temp-app", "--name", "Temp", "--redirect-uri", "https://temp.example.test/cb", "--scope", "openid");
        var duplicate = await PanCli.RunAsync(fixture.Database, "clients", "add", "temp-app", "--name", "Temp", "--redirect-uri", "https://temp.example.test/cb", "--scope", "openid");
        var list = await PanCli.RunAsync(fixture.Database, "clients", "list");
        var remove = await PanCli.RunAsync(fixture.Database, "clients", "remove", "temp-app");
        var who = await SignInAsync(fixture.Server);

        Assert.Equal((0, 1, 0, 0), (add.ExitCode, duplicate.ExitCode, list.ExitCode, remove.ExitCode));
        Assert.Contains("temp-app", list.Output, StringComparison.Ordinal);
        Assert.Contains(OAuthFixture.WebClient, list.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.WebSecret, list.Output, StringComparison.Ordinal);
        var ex = await Assert.ThrowsAsync<Grpc.Core.RpcException>(
            () => new ConsentProcess.ConsentProcessClient(fixture.Server.Grpc).DoAsync(Request(who, "temp-app", "https://temp.example.test/cb", "openid", Pkce.Create())).ResponseAsync);
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, ex.StatusCode);
    }

    [Fact]
    public async Task ClientsAdd_ImplicitConsentForAPublicClientWithANonHttpsRedirect_RegistersItWithAWarning()
    {
        // Implicit consent is the operator's decision, kept; but any app on the device can claim a custom scheme or a
        // loopback port and get the member's code with no screen, so the operator is told.
        var native = await PanCli.RunAsync(fixture.Database, "clients", "add", "implicit-native", "--name", "N", "--redirect-uri", "com.example.implicit:/cb",
            "--scope", "openid", "--consent", "implicit");
        var loopback = await PanCli.RunAsync(fixture.Database, "clients", "add", "implicit-loopback", "--name", "L", "--redirect-uri", "https://l.example.test/cb",
            "--redirect-uri", "http://127.0.0.1:9999/cb", "--scope", "openid", "--consent", "implicit");
        var https = await PanCli.RunAsync(fixture.Database, "clients", "add", "implicit-https", "--name", "H", "--redirect-uri", "https://h.example.test/cb",
            "--scope", "openid", "--consent", "implicit");
        var confidential = await PanCli.RunAsync(fixture.Database, "clients", "add", "implicit-secret", "--name", "S", "--redirect-uri", "http://127.0.0.1:9998/cb",
            "--scope", "openid", "--consent", "implicit", "--type", "confidential");

        Assert.Equal((0, 0, 0, 0), (native.ExitCode, loopback.ExitCode, https.ExitCode, confidential.ExitCode));
        Assert.Contains("Warning: implicit consent for a public client", native.Error, StringComparison.Ordinal);
        Assert.Contains("Warning: implicit consent for a public client", loopback.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Warning", https.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Warning", confidential.Error, StringComparison.Ordinal);
    }

    /// <summary>
    /// A running node that has already served a client (the fixture's node, in its own process from the CLI's, as a
    /// second node would be) serves the client as registered now once an operator removed it and registered it again:
    /// the old redirect URI is refused, the new one and the new secret are accepted. Nothing of a client may be kept
    /// in one node's memory past the change.
    /// </summary>
    [Fact]
    public async Task AClientRemovedAndRegisteredAgain_WhileANodeRuns_IsServedAsItIsRegisteredNow()
    {
        var clientId = $"moved-{Guid.NewGuid():N}";
        const string OldRedirect = "https://old.example.test/cb", NewRedirect = "https://new.example.test/cb";
        string[] Add(string redirect) => ["clients", "add", clientId, "--name", "Moved", "--redirect-uri", redirect, "--scope", "openid", "--type", "confidential"];
        var who = await SignInAsync(fixture.Server);
        var consent = new ConsentProcess.ConsentProcessClient(fixture.Server.Grpc);
        var first = await PanCli.RunAsync(fixture.Database, Add(OldRedirect));
        Assert.Equal(0, first.ExitCode);
        Assert.NotEmpty((await ConsentAsync(fixture.Server, who, Request(who, clientId, OldRedirect, "openid", Pkce.Create()))).ToString());

        var removed = await PanCli.RunAsync(fixture.Database, "clients", "remove", clientId);
        var whileRemoved = await Assert.ThrowsAsync<Grpc.Core.RpcException>(
            () => consent.DoAsync(Request(who, clientId, OldRedirect, "openid", Pkce.Create())).ResponseAsync);
        var again = await PanCli.RunAsync(fixture.Database, Add(NewRedirect));
        var oldRedirect = await Assert.ThrowsAsync<Grpc.Core.RpcException>(
            () => consent.DoAsync(Request(who, clientId, OldRedirect, "openid", Pkce.Create())).ResponseAsync);
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(fixture.Server, who, Request(who, clientId, NewRedirect, "openid", pkce));
        var (status, json) = await PostFormAsync(fixture.Server, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = NewRedirect,
            ["client_id"] = clientId, ["client_secret"] = PanCli.Secret(again), ["code_verifier"] = pkce.Verifier,
        });

        Assert.Equal((0, 0), (removed.ExitCode, again.ExitCode));
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, whileRemoved.StatusCode);
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, oldRedirect.StatusCode);
        Assert.StartsWith(NewRedirect, redirect.ToString(), StringComparison.Ordinal);
        Assert.True(status == System.Net.HttpStatusCode.OK, $"{status}: {json}");
        Assert.NotEmpty(json.GetProperty("access_token").GetString()!);
    }

    /// <summary>
    /// Two operators register one client id at the same moment: both find it not registered before either writes (held
    /// here at the write by a lock on the clients). As when they run one after the other, one registers it and the other
    /// is told it is already registered (exit 1, no secret), not that the database refused a write.
    /// </summary>
    [Fact]
    public async Task ClientsAdd_TwoAtOnceForOneClientId_OneRegistersAndTheOtherIsTold_AsOneAfterTheOther()
    {
        var clientId = $"race-{Guid.NewGuid():N}";
        string[] Add(string name) => ["clients", "add", clientId, "--name", name, "--redirect-uri", "https://race.example.test/cb", "--scope", "openid", "--type", "confidential"];
        CliRun[] runs;
        await using (var hold = await DatabaseLock.HoldAsync(fixture.Database, "oauth_applications"))
        {
            // Why Task.Run: SQLite waits for its write lock on the calling thread, which must not be this test's.
            var both = Task.WhenAll(
                Task.Run(() => PanCli.RunAsync(fixture.Database, Add("First"))),
                Task.Run(() => PanCli.RunAsync(fixture.Database, Add("Second"))));
            if (!await LockWaits.UntilAsync(fixture.Database, 2, both))
            {
                // SQLite shows no waiting statement: give both commands time to reach their write (within the busy timeout).
                await Task.WhenAny(both, Task.Delay(TimeSpan.FromSeconds(2.5)));
            }

            await hold.CommitAsync();
            runs = await both;
        }

        var sequential = await PanCli.RunAsync(fixture.Database, Add("Third"));
        var winner = Assert.Single(runs, r => r.ExitCode == 0);
        var loser = Assert.Single(runs, r => r.ExitCode != 0);
        Assert.Equal((sequential.ExitCode, sequential.Output, sequential.Error), (loser.ExitCode, loser.Output, loser.Error));
        Assert.Equal(1, loser.ExitCode);
        Assert.Contains("already registered", loser.Error, StringComparison.Ordinal);
        Assert.Contains("secret", winner.Output, StringComparison.OrdinalIgnoreCase);
        var name = winner == runs[0] ? "First" : "Second";
        Assert.Contains($"client {clientId} ({name})", winner.Output, StringComparison.Ordinal);
        Assert.Contains((await PanCli.RunAsync(fixture.Database, "clients", "list")).Output.Split('\n'),
            l => l.StartsWith(clientId + " ", StringComparison.Ordinal) && l.Contains(" " + name + " ", StringComparison.Ordinal));
        var audit = await Pan.Tests.Members.TestMembers.WithDbAsync(fixture.Server, db => db.Set<Pan.Data.Audit.AuditEntry>().AsNoTracking()
            .Where(e => e.Target == "client:" + clientId).OrderBy(e => e.Id).Select(e => e.Outcome).ToListAsync());
        Assert.Equal(["ok", "refused: exists", "refused: exists"], audit);
    }

    // A client registration, removal or key rotation commits together with its audit line: when the database refuses
    // the line, nothing of the change stays and the command exits 1 saying so.

    [Fact]
    public async Task ClientsAdd_WhenItsAuditLineIsRefused_RegistersNothingAndExitsWithOne()
    {
        CliRun run;
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "audit_log", TriggeredWrite.Insert, "NEW.action = 'cli.clients.add'"))
        {
            run = await PanCli.RunAsync(fixture.Database, "clients", "add", "unaudited-app", "--name", "Unaudited", "--redirect-uri", "https://unaudited.example.test/cb",
                "--scope", "openid", "--type", "confidential");
        }

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("nothing was changed", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(FailureTriggers.Message, run.Error + run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", run.Output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("unaudited-app", (await PanCli.RunAsync(fixture.Database, "clients", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientsRemove_WhenItsAuditLineIsRefused_KeepsTheClientAndExitsWithOne()
    {
        Assert.Equal(0, (await PanCli.RunAsync(fixture.Database, "clients", "add", "kept-app", "--name", "Kept", "--redirect-uri", "https://kept.example.test/cb", "--scope", "openid")).ExitCode);

        CliRun run;
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "audit_log", TriggeredWrite.Insert, "NEW.action = 'cli.clients.remove'"))
        {
            run = await PanCli.RunAsync(fixture.Database, "clients", "remove", "kept-app");
        }

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("nothing was changed", run.Error, StringComparison.Ordinal);
        Assert.Contains("kept-app", (await PanCli.RunAsync(fixture.Database, "clients", "list")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientsRotateKeys_WhenItsAuditLineIsRefused_AddsNoKeyAndExitsWithOne()
    {
        var before = await KeyRowsAsync();

        CliRun run;
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "audit_log", TriggeredWrite.Insert, "NEW.action = 'cli.clients.rotate-keys'"))
        {
            run = await PanCli.RunAsync(fixture.Database, "clients", "rotate-keys");
        }

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("nothing was changed", run.Error, StringComparison.Ordinal);
        Assert.Equal(before, await KeyRowsAsync());
    }

    /// <summary>
    /// Making the new RSA key takes a tenth of a second or more: the rotation makes it before its transaction opens, so
    /// meanwhile other writers (sign-ins, codes) go on. Held here while the key is made, the rotation holds no lock
    /// another writer waits for (SQLite's write lock; on PostgreSQL any lock on the key table).
    /// </summary>
    [Fact]
    public async Task ClientsRotateKeys_WhileTheKeyIsMade_HoldsNoTransaction_SoOtherWritersGoOn()
    {
        var before = await KeyRowsAsync();
        using var gate = new KeyMakerGate();

        bool otherWriterWentOn;
        Task<CliRun> rotation;
        try
        {
            // Why Task.Run: SQLite waits for its write lock on the calling thread, which must not be this test's.
            rotation = Task.Run(() => PanCli.RunAsync(fixture.Database,
                builder => builder.Services.AddSingleton<Pan.Server.OAuth.OAuthKeyMaker>(gate), Pan.Server.Cli.ClientsCommand.RotateAsync));
            await gate.Reached.WaitAsync(TimeSpan.FromSeconds(30));
            var other = Task.Run(() => DatabaseLock.HoldAsync(fixture.Database, "oauth_keys", "ACCESS EXCLUSIVE"));
            otherWriterWentOn = await Task.WhenAny(other, Task.Delay(TimeSpan.FromSeconds(3))) == other;
            if (!otherWriterWentOn)
            {
                // Let the key be made, so the rotation's transaction ends and the other writer gets through.
                gate.Release();
            }

            await (await other).DisposeAsync();
        }
        finally
        {
            gate.Release();
        }

        var run = await rotation;
        Assert.True(otherWriterWentOn, "another writer waited for the rotation's transaction while the key was made");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(before.Count + 2, (await KeyRowsAsync()).Count);
        var audit = await Pan.Tests.Members.TestMembers.WithDbAsync(fixture.Server, db => db.Set<Pan.Data.Audit.AuditEntry>().AsNoTracking()
            .Where(e => e.Action == "cli.clients.rotate-keys").OrderByDescending(e => e.Id).Select(e => e.Outcome).FirstAsync());
        Assert.Equal("ok", audit);
    }

    /// <summary>
    /// Two operators rotate the keys at the same moment: both read the newest generation before either writes (held here
    /// at the write by a lock on the keys). As when they run one after the other, both succeed: one adds the next
    /// generation of each key, the other the one after it, and only the newest two generations of each stay live.
    /// </summary>
    [Fact]
    public async Task ClientsRotateKeys_TwoAtOnce_BothRotate_AsOneAfterTheOther()
    {
        var before = await KeyRowsAsync();
        var newest = before.Select(r => long.Parse(r.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture)).Max();
        var audited = await RotationAuditCountAsync();

        CliRun[] runs;
        await using (var hold = await DatabaseLock.HoldAsync(fixture.Database, "oauth_keys"))
        {
            // Why Task.Run: SQLite waits for its write lock on the calling thread, which must not be this test's.
            var both = Task.WhenAll(
                Task.Run(() => RunCaughtAsync(fixture.Database, "clients", "rotate-keys")),
                Task.Run(() => RunCaughtAsync(fixture.Database, "clients", "rotate-keys")));
            if (!await LockWaits.UntilAsync(fixture.Database, 2, both))
            {
                // SQLite shows no waiting statement: give both commands time to reach their write (within the busy timeout).
                await Task.WhenAny(both, Task.Delay(TimeSpan.FromSeconds(2.5)));
            }

            await hold.CommitAsync();
            runs = await both;
        }

        Assert.All(runs, r => Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Error}"));
        Assert.Equal(
            new[] { newest + 1, newest + 2 }.Select(g => $"signing generation {g}, encryption generation {g}").Order(StringComparer.Ordinal),
            runs.Select(r => System.Text.RegularExpressions.Regex.Match(r.Output, "signing generation \\d+, encryption generation \\d+").Value).Order(StringComparer.Ordinal));
        var after = await KeyRowsAsync();
        Assert.Equal(before.Count + 4, after.Count);
        Assert.Equal(
            [$"enc:{newest + 1}:True", $"enc:{newest + 2}:True", $"sig:{newest + 1}:True", $"sig:{newest + 2}:True"],
            after.Where(r => r.EndsWith(":True", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Equal(audited + 2, await RotationAuditCountAsync());
    }

    // A command the database or the settings refuse says why and exits 1; the operator gets no stack trace.

    [Fact]
    public async Task ClientsRotateKeys_WhenTheStoredKeysAreWrappedWithAKeyNotConfigured_SaysWhichSettingAndExitsWithOne()
    {
        await using var database = await fixture.NewDatabaseAsync();
        Assert.Equal(0, (await PanCli.RunAsync(database, "migrate")).ExitCode);
        Assert.Equal(0, (await PanCli.RunAsync(database, "clients", "rotate-keys", $"--{Pan.Tests.Keys.TestKeys.Setting}={Pan.Tests.Keys.TestKeys.First}")).ExitCode);

        var run = await RunCaughtAsync(database, "clients", "rotate-keys");

        AssertRefused(run, "Pan:Keys:EncryptionKey is not set");
    }

    [Fact]
    public async Task ClientsRotateKeys_WithABadKeySetting_SaysWhichSettingAndExitsWithOne()
    {
        var before = await KeyRowsAsync();

        var run = await RunCaughtAsync(fixture.Database, "clients", "rotate-keys", $"--{Pan.Tests.Keys.TestKeys.Setting}=not-a-key");

        AssertRefused(run, "Pan:Keys:EncryptionKey must be the base64 of exactly 32 bytes");
        Assert.DoesNotContain("not-a-key", run.Error, StringComparison.Ordinal);
        Assert.Equal(before, await KeyRowsAsync());
    }

    [Fact]
    public async Task ClientsList_OnADatabaseNotMigrated_SaysTheDatabaseFailedAndExitsWithOne()
    {
        await using var database = await fixture.NewDatabaseAsync();

        var run = await RunCaughtAsync(database, "clients", "list");

        AssertRefused(run, "migrate");
    }

    [Fact]
    public async Task TwoNodesStartingOnAnEmptyDatabase_AgreeOnOneKeySet_AndRotationKeepsOldTokensWorking()
    {
        await using var database = await fixture.NewDatabaseAsync();
        Assert.Equal(0, (await PanCli.RunAsync(database, "migrate")).ExitCode);
        var settings = new Dictionary<string, string?>(Http) { ["Pan:Links:PublicBaseUrl"] = "http://127.0.0.1:1/" };
        var nodes = await Task.WhenAll(PanServer.StartAsync(database, settings), PanServer.StartAsync(database, settings));
        await using var first = nodes[0];
        await using var second = nodes[1];
        var before = await KeyIdsAsync(first);
        Assert.Equal(before, await KeyIdsAsync(second));
        Assert.Single(before);

        // A refresh token made with generation 1 ...
        Assert.Equal(0, (await PanCli.RunAsync(database, "clients", "add", "rot", "--name", "Rot", "--redirect-uri", "https://rot.example.test/cb",
            "--scope", "openid", "--scope", "offline_access")).ExitCode);
        var who = await SignInAsync(first);
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(first, who, Request(who, "rot", "https://rot.example.test/cb", "openid offline_access", pkce));
        var tokens = await new App.AppClient(first.Grpc).GetAccessTokenAsync(new GetAccessTokenRequest
        {
            Code = Param(redirect, "code"), RedirectUri = "https://rot.example.test/cb", ClientId = "rot", CodeVerifier = pkce.Verifier,
        });

        var rotate = await PanCli.RunAsync(database, "clients", "rotate-keys");
        await using var restarted = await PanServer.StartAsync(database, settings);
        var after = await KeyIdsAsync(restarted);
        // ... still works on a node that signs with generation 2, which publishes both keys.
        var refreshed = await new App.AppClient(restarted.Grpc).GetRefreshTokenAsync(new GetRefreshTokenRequest { RefreshToken = tokens.RefreshToken, ClientId = "rot" });

        Assert.Equal(0, rotate.ExitCode);
        Assert.Equal(2, after.Count);
        Assert.Contains(before[0], after);
        Assert.NotEqual(before[0], after[0]);
        Assert.NotEmpty(refreshed.AccessToken);
        Assert.Equal(after[0], JsonDocument.Parse(Base64UrlDecode(refreshed.IdToken.Split('.')[0])).RootElement.GetProperty("kid").GetString());
    }

    /// <summary>
    /// A rolling restart after <c>clients rotate-keys</c>: a node already restarted signs and encrypts with the new
    /// generation while another still runs from before. A code the restarted node issued is exchanged on the other
    /// node, and the access token from it is read by the other node's userinfo, as an app behind a load balancer does.
    /// </summary>
    [Fact]
    public async Task AfterRotateKeys_ACodeFromARestartedNode_IsExchangedOnANodeNotRestartedYet()
    {
        await using var database = await fixture.NewDatabaseAsync();
        Assert.Equal(0, (await PanCli.RunAsync(database, "migrate")).ExitCode);
        var settings = new Dictionary<string, string?>(Http) { ["Pan:Links:PublicBaseUrl"] = "http://127.0.0.1:1/" };
        await using var old = await PanServer.StartAsync(database, settings);
        Assert.Equal(0, (await PanCli.RunAsync(database, "clients", "add", "roll", "--name", "Roll", "--redirect-uri", "https://roll.example.test/cb",
            "--scope", "openid", "--scope", "offline_access")).ExitCode);

        Assert.Equal(0, (await PanCli.RunAsync(database, "clients", "rotate-keys")).ExitCode);
        await using var restarted = await PanServer.StartAsync(database, settings);
        var who = await SignInAsync(restarted);
        var pkce = Pkce.Create();
        var redirect = await ConsentAsync(restarted, who, Request(who, "roll", "https://roll.example.test/cb", "openid offline_access", pkce));
        var (status, json) = await PostFormAsync(old, "/connect/token", new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = Param(redirect, "code"), ["redirect_uri"] = "https://roll.example.test/cb",
            ["client_id"] = "roll", ["code_verifier"] = pkce.Verifier,
        });

        Assert.True(status == System.Net.HttpStatusCode.OK, $"{status}: {json}");
        using var userInfo = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        userInfo.Headers.Authorization = new("Bearer", json.GetProperty("access_token").GetString());
        using var info = await old.Http.SendAsync(userInfo);
        Assert.Equal(System.Net.HttpStatusCode.OK, info.StatusCode);
        Assert.Contains(who.Member.ObjectId.ToString("D"), await info.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Two nodes started together on an empty database (not migrated: each migrates at start-up, and each loads the
    /// Data Protection key ring, making its first key) serve their first pages at the same moment: a sign-in form
    /// (antiforgery cookie and field) served by either is taken by the other, both ways, as a member's browser behind
    /// a load balancer does.
    /// </summary>
    [Fact]
    public async Task TwoNodesStartingOnAnEmptyDatabase_TakeEachOthersPageForms()
    {
        await using var database = await fixture.NewDatabaseAsync();
        var settings = new Dictionary<string, string?>(Http) { ["Pan:Links:PublicBaseUrl"] = "http://127.0.0.1:1/" };
        var nodes = await Task.WhenAll(PanServer.StartAsync(database, settings), PanServer.StartAsync(database, settings));
        await using var first = nodes[0];
        await using var second = nodes[1];
        var pages = await Task.WhenAll(first.Http.GetAsync("/account/sign-in"), second.Http.GetAsync("/account/sign-in"));
        var forms = await Task.WhenAll(pages.Select(p => p.Content.ReadAsStringAsync()));

        // The answer to the form posted to a node: 400 with the phone form saying the number is not valid when the
        // antiforgery check passed ("The form has expired." when it did not).
        static async Task<string> PostAsync(HttpResponseMessage page, string form, PanServer to)
        {
            using var post = new HttpRequestMessage(HttpMethod.Post, "/account/sign-in")
            {
                Content = new FormUrlEncodedContent(
                    [new("af", Pan.Tests.Pages.PageClient.Hidden(form, "af")), new("country_code", "886"), new("phone", "12"), new("returnUrl", "/healthz")]),
            };
            post.Headers.Add("Cookie", string.Join("; ", page.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0])));
            // Why a client of its own: the node's client keeps the cookies of its own GET.
            using var browser = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = to.HttpUri };
            using var answer = await browser.SendAsync(post);
            var html = await answer.Content.ReadAsStringAsync();
            return $"{(int)answer.StatusCode} {(html.Contains("Enter a valid mobile number.", StringComparison.Ordinal) ? "phone refused" : html.Contains("The form has expired.", StringComparison.Ordinal) ? "form expired" : html)}";
        }

        var firstToFirst = await PostAsync(pages[0], forms[0], first);
        var firstToSecond = await PostAsync(pages[0], forms[0], second);
        var secondToFirst = await PostAsync(pages[1], forms[1], first);

        Assert.All(pages, p => Assert.Equal(System.Net.HttpStatusCode.OK, p.StatusCode));
        Assert.Equal("400 phone refused", firstToFirst);
        Assert.Equal(("400 phone refused", "400 phone refused"), (firstToSecond, secondToFirst));
    }

    [Fact]
    public async Task WithoutTheLoopbackAllowance_PlainHttpIsRefused_ButHttpsFromATrustedProxyIsServed()
    {
        await using var strict = await PanServer.StartAsync(fixture.Database, new Dictionary<string, string?>
        {
            ["Pan:Links:PublicBaseUrl"] = "https://id.example.test/", ["Pan:Network:TrustedProxies:0"] = "127.0.0.1",
        });
        using var proxied = new HttpRequestMessage(HttpMethod.Get, "/.well-known/openid-configuration");
        proxied.Headers.Add("X-Forwarded-For", "203.0.113.9");
        proxied.Headers.Add("X-Forwarded-Proto", "https");

        using var plain = await strict.Http.GetAsync("/.well-known/openid-configuration");
        using var tls = await strict.Http.SendAsync(proxied);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, plain.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, tls.StatusCode);
        // The issuer is the configured public URL; endpoint URLs take the request's host and (forwarded) scheme.
        var discovery = JsonDocument.Parse(await tls.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("https://id.example.test/", discovery.GetProperty("issuer").GetString());
        Assert.StartsWith("https://", discovery.GetProperty("token_endpoint").GetString(), StringComparison.Ordinal);
    }

    private Task<int> RotationAuditCountAsync() => Pan.Tests.Members.TestMembers.WithDbAsync(fixture.Server, db =>
        db.Set<Pan.Data.Audit.AuditEntry>().AsNoTracking().CountAsync(e => e.Action == "cli.clients.rotate-keys" && e.Outcome == "ok"));

    /// <summary>The provider's key rows (kind, generation, retired or not), in order.</summary>
    private Task<List<string>> KeyRowsAsync() => Pan.Tests.Members.TestMembers.WithDbAsync(fixture.Server, async db =>
        (await db.Set<Pan.Data.OAuth.OAuthKey>().AsNoTracking().ToListAsync())
            .Select(k => $"{k.Kind}:{k.Generation}:{k.Retired is null}").Order(StringComparer.Ordinal).ToList());

    private static async Task<List<string>> KeyIdsAsync(PanServer server)
    {
        var jwks = JsonDocument.Parse(await server.Http.GetStringAsync("/.well-known/jwks")).RootElement;
        return [.. jwks.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!)];
    }

    private static string Base64UrlDecode(string value) => System.Text.Encoding.UTF8.GetString(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(value));
}

/// <summary>
/// An <see cref="Pan.Server.OAuth.OAuthKeyMaker"/> whose first key waits (up to a minute) until <see cref="Release"/>;
/// <see cref="Reached"/> completes when it starts waiting.
/// </summary>
internal sealed class KeyMakerGate : Pan.Server.OAuth.OAuthKeyMaker, IDisposable
{
    private readonly TaskCompletionSource reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ManualResetEventSlim released = new();
    private int passed;

    public Task Reached => reached.Task;

    public void Release() => released.Set();

    public void Dispose() => released.Dispose();

    public override byte[] Make(string kind)
    {
        if (Interlocked.Exchange(ref passed, 1) == 0)
        {
            reached.TrySetResult();
            released.Wait(TimeSpan.FromMinutes(1));
        }

        return base.Make(kind);
    }
}

public sealed class OAuthCliBehaviour_Sqlite(SqliteOAuthFixture f) : OAuthCliBehaviour<SqliteOAuthFixture>(f);

public sealed class OAuthCliBehaviour_Postgres(PostgresOAuthFixture f) : OAuthCliBehaviour<PostgresOAuthFixture>(f);
