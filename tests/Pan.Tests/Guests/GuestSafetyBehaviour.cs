using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data;
using Pan.Data.Guests;
using Pan.General.Member;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using LoginPhase = Pan.General.Member.LoginRequest.Types.Phase;
using LoginType = Pan.General.Member.LoginRequest.Types.LoginType;

namespace Pan.Tests.Guests;

/// <summary>
/// What must hold around guest accounts: no password sign-in anywhere in Pan before activation, single use under
/// concurrency, createTemp's argument codes, the mail language, and the operator command that sets an app's settings.
/// </summary>
public abstract class GuestSafetyBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : GuestFixture
{
    private ApinodeClient EmailApp => new(fixture.Server, GuestFixture.EmailApp, fixture.SecretOf(GuestFixture.EmailApp));

    private ApinodeClient PlainApp => new(fixture.Server, GuestFixture.PlainApp, fixture.SecretOf(GuestFixture.PlainApp));

    [Fact]
    public async Task AnApinodeToken_IsNoPanAccessToken_SoItFetchesNoMembershipPass()
    {
        // Why convertTemp ends no passes: the apinode tokens it ends cannot fetch one (SECURITY 12).
        var temp = await PlainApp.CreateTempAsync();
        var client = new MemberServiceV2.MemberServiceV2Client(fixture.Server.Grpc);

        await Errors.ExpectAsync(() => client.GetPassportTokenAsync(new GetPassportTokenRequest { AccessToken = temp.Token }).ResponseAsync,
            StatusCode.Unauthenticated, "TOKEN_INVALID");
        await Errors.ExpectAsync(() => client.GetQRCodeAsync(new GetQRCodeRequest { PanAccessToken = temp.Token }).ResponseAsync,
            StatusCode.Unauthenticated, "GetQRCodeResponse.Error__Failed");
    }

    [Fact]
    public async Task PendingAccount_CannotSignInWithItsPassword_ThroughPansEmailLogin_UntilActivated()
    {
        var (address, passwd, link) = await ConvertPendingAsync();
        var client = new MemberServiceV2.MemberServiceV2Client(fixture.Server.Grpc);

        // Until activation proves the address, it names nobody (an unverified email reserves nothing).
        await Errors.ExpectAsync(
            () => client.LoginAsync(new LoginRequest { Phase = LoginPhase.CheckExistence, LoginType = LoginType.Email, PhaseCheckExistenceValue = address }).ResponseAsync,
            StatusCode.NotFound, "ErrLogin.NOT_FOUND");

        Assert.Equal(0, (await ApinodeClient.SendAsync(fixture.Server.Http, new HttpRequestMessage(HttpMethod.Get, link))).Code);
        var again = await client.LoginAsync(new LoginRequest { Phase = LoginPhase.CheckExistence, LoginType = LoginType.Email, PhaseCheckExistenceValue = address });
        var done = await client.LoginAsync(Input(again.PhaseSessionToken, passwd));
        Assert.NotEmpty(done.PhaseDoneAuthToken);
    }

    [Fact]
    public async Task Activation_AfterAnotherMemberVerifiedTheAddress_Completes_AndLeavesTheAddressWithTheFirstVerifier()
    {
        var (address, passwd, link) = await ConvertPendingAsync();
        var guestUid = await DbAsync(db => db.Set<GuestAccount>().Where(g => g.AccountKey == "e:" + address.ToLowerInvariant()).Select(g => g.Uid).FirstAsync());
        // Another member proves the same address while the mailed link waits (verified addresses are unique in Pan).
        var owner = await PlainApp.CreateTempAsync();
        var key = Pan.Server.Email.EmailAddresses.Key(address);
        await DbAsync(db => db.Members.Where(m => m.Uid == owner.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.Email, address).SetProperty(m => m.EmailKey, key).SetProperty(m => m.EmailVerified, true)));

        var activated = await ApinodeClient.SendAsync(fixture.Server.Http, new HttpRequestMessage(HttpMethod.Get, link));

        Assert.Equal((0, guestUid), (activated.Code, activated.Id));
        var verified = await DbAsync(db => db.Members.AsNoTracking().Where(m => m.Uid == guestUid || m.Uid == owner.Id)
            .ToDictionaryAsync(m => m.Uid, m => m.EmailVerified));
        Assert.Equal((false, true), (verified[guestUid], verified[owner.Id]));
        // The apinode account name is the guest's own: it still signs in with it and its password.
        var login = await EmailApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = address, ["passwd"] = passwd });
        Assert.Equal((0, guestUid), (login.Code, login.Value.GetProperty("userID").GetInt64()));
    }

    [Fact]
    public async Task TenParallelActivations_WithOneLink_ExactlyOneWins()
    {
        var (_, _, link) = await ConvertPendingAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            ApinodeClient.SendAsync(fixture.Server.Http, new HttpRequestMessage(HttpMethod.Get, link))));

        Assert.Equal(1, answers.Count(a => a.Code == 0));
        Assert.All(answers.Where(a => a.Code != 0), a => Assert.Equal(2, a.Code));
    }

    [Fact]
    public async Task TenParallelConversions_OfOneAccount_ExactlyOneWins()
    {
        var temp = await PlainApp.CreateTempAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => PlainApp.CallAsync("convertTemp", new Dictionary<string, string>
        {
            ["accName"] = $"p{i}_{Guid.NewGuid():N}"[..20], ["passwd"] = ApinodeClient.ClientHash(),
        }, temp.Token)));

        Assert.Equal(1, answers.Count(a => a.Code == 0));
        // The losers either lost the claim (20) or found the temporary token already revoked (−3).
        Assert.All(answers.Where(a => a.Code != 0), a => Assert.Contains(a.Code, new[] { 20, -3 }));
        var names = await DbAsync(db => db.Set<GuestAccount>().Where(g => g.Uid == temp.Id).Select(g => g.AccountName).ToListAsync());
        Assert.Single(names);
    }

    [Fact]
    public async Task SmsActivation_ToANumberTheRiskRulesTrip_WithCaptchaModeRisk_TextsNothing_AndIs30()
    {
        // The apinode API carries no captcha, so a text the risk rules would make wait for one is not sent at all: the
        // conversion is 30 (as when the caps block it) and a sign-in with the right password sends nothing either.
        await using var recaptcha = await FakeRecaptchaServer.StartAsync();
        var settings = recaptcha.Settings("risk");
        settings["Pan:Sms:Risk:HighRiskCountries:0"] = "TW";
        await using var node = await fixture.StartNodeWithAsync(settings);
        var sms = new ApinodeClient(node, GuestFixture.SmsApp, fixture.SecretOf(GuestFixture.SmsApp));
        var temp = await sms.CreateTempAsync();
        var (national, e164) = PhoneFlows.Phones.NewNumber();
        var passwd = ApinodeClient.ClientHash();

        var converted = await sms.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = passwd }, temp.Token);
        var pending = await sms.CallAsync("login", new Dictionary<string, string> { ["accName"] = national, ["passwd"] = passwd });

        Assert.Equal(30, converted.Code);
        Assert.Equal(4, pending.Code);
        await Task.Delay(200);
        Assert.Empty(fixture.Inbox.MessagesTo(e164));
        Assert.Equal(0, await DbAsync(db => db.Set<GuestActivation>().CountAsync(a => a.Uid == temp.Id)));
    }

    [Fact]
    public async Task TwentyParallelConversions_OfDifferentAccounts_ToOneNameOrOneDisplayName_OneWinsEach_TheOthersAreTaken()
    {
        var name = $"n{Guid.NewGuid():N}"[..20];
        var display = $"d{Guid.NewGuid():N}"[..12];
        var temps = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => PlainApp.CreateTempAsync()));

        // Half race for one account name (each with a display name of its own), half for one display name.
        var answers = await Task.WhenAll(temps.Select((t, i) => PlainApp.CallAsync("convertTemp", new Dictionary<string, string>
        {
            ["accName"] = i % 2 == 0 ? name : $"o{i}_{Guid.NewGuid():N}"[..20],
            ["dspName"] = i % 2 == 0 ? $"x{i}{Guid.NewGuid():N}"[..12] : display,
            ["passwd"] = ApinodeClient.ClientHash(),
        }, t.Token)));

        var byName = answers.Where((_, i) => i % 2 == 0).ToList();
        var byDisplay = answers.Where((_, i) => i % 2 == 1).ToList();
        Assert.Equal(1, byName.Count(a => a.Code == 0));
        Assert.All(byName.Where(a => a.Code != 0), a => Assert.Equal(10, a.Code));
        Assert.Equal(1, byDisplay.Count(a => a.Code == 0));
        Assert.All(byDisplay.Where(a => a.Code != 0), a => Assert.Equal(12, a.Code));
        var key = Pan.Server.DisplayNames.DisplayNameRules.Key(display);
        Assert.Equal(1, await DbAsync(db => db.Members.CountAsync(m => m.DisplayNameKey == key)));
    }

    [Fact]
    public async Task ConvertTemp_WhenTheSmsCannotBeSent_Is30_AndLoginWithTheRightPasswordSendsANewCode()
    {
        var sms = new ApinodeClient(fixture.Server, GuestFixture.SmsApp, fixture.SecretOf(GuestFixture.SmsApp));
        var temp = await sms.CreateTempAsync();
        var (national, e164) = PhoneFlows.Phones.NewNumber();
        var passwd = ApinodeClient.ClientHash();
        fixture.Inbox.FailNext(1);

        var converted = await sms.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = passwd }, temp.Token);

        Assert.Equal(30, converted.Code);
        Assert.Equal((temp.Id, 2), (converted.Id, converted.Value.GetProperty("actScheme").GetInt32()));
        Assert.Empty(fixture.Inbox.MessagesTo(e164));
        Assert.Equal(3, (await sms.CallAsync("login", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = ApinodeClient.ClientHash() })).Code);
        Assert.Empty(fixture.Inbox.MessagesTo(e164));

        var pending = await sms.CallAsync("login", new Dictionary<string, string> { ["accName"] = national, ["passwd"] = passwd });
        Assert.Equal(4, pending.Code);
        Assert.NotEmpty(pending.Value.GetProperty("actID").GetString()!);
        var code = await fixture.Inbox.WaitForCodeAsync(e164, PhoneFlows.Phones.Wait);
        Assert.Equal(0, (await ApinodeClient.SendAsync(fixture.Server.Http, new HttpRequestMessage(HttpMethod.Get, $"/admin/user/activate/{code}@{Uri.EscapeDataString(e164)}"))).Code);
        Assert.Equal(0, (await sms.CallAsync("login", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = passwd })).Code);
    }

    /// <summary>
    /// The activation text fails after the conversion committed, at Pan's end (its first write after the commit is
    /// refused): the app is told 30 (converted, not sent), and the next login with the right password sends it.
    /// </summary>
    [Fact]
    public async Task ConvertTemp_WhoseActivationSendFailsAfterTheCommit_Is30_AndLoginWithTheRightPasswordSendsIt()
    {
        var sms = new ApinodeClient(fixture.Server, GuestFixture.SmsApp, fixture.SecretOf(GuestFixture.SmsApp));
        var temp = await sms.CreateTempAsync();
        var (national, e164) = PhoneFlows.Phones.NewNumber();
        var passwd = ApinodeClient.ClientHash();
        ApinodeAnswer converted;
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "sms_sends", TriggeredWrite.Insert, "NEW.purpose = 'Activation'"))
        {
            converted = await sms.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = passwd }, temp.Token);
        }

        Assert.Equal(30, converted.Code);
        Assert.Equal((temp.Id, 2), (converted.Id, converted.Value.GetProperty("actScheme").GetInt32()));
        Assert.Empty(fixture.Inbox.MessagesTo(e164));
        await ExpectActivationSentAtLoginAsync(sms, national, e164, passwd, temp.Id);
    }

    /// <summary>
    /// The database goes away right after the conversion committed, before its activation text: once it is back, the
    /// next login with the right password sends the activation (PostgreSQL; a SQLite database is a local file with no
    /// connection to lose, and the test above plays the failure there).
    /// </summary>
    [Fact]
    public async Task ConvertTemp_WhenTheDatabaseDropsRightAfterItsCommit_Is30_AndLoginOnceItIsBackSendsTheActivation()
    {
        if (fixture.Database.Provider != "postgres")
        {
            return;
        }

        var (relay, relayed) = TcpRelay.InFrontOf(fixture.Database);
        await using var _ = relay;
        await using var node = await fixture.StartNodeOnAsync(relayed);
        var sms = new ApinodeClient(node, GuestFixture.SmsApp, fixture.SecretOf(GuestFixture.SmsApp));
        var temp = await sms.CreateTempAsync();
        var (national, e164) = PhoneFlows.Phones.NewNumber();
        var passwd = ApinodeClient.ClientHash();
        // The activation text's log row, the first write after the conversion's commit, sleeps until the relay is cut.
        var name = "test_sleep_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync(
            $"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$",
            $"CREATE TRIGGER {name} BEFORE INSERT ON sms_sends FOR EACH ROW WHEN (NEW.purpose = 'Activation') EXECUTE FUNCTION {name}()");
        ApinodeAnswer converted;
        try
        {
            var call = Task.Run(() => sms.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = passwd }, temp.Token));
            await Eventually.HoldsAsync(async () => call.IsCompleted || await DbAsync(db => db.Database
                .SqlQueryRaw<int>("SELECT count(*)::int AS \"Value\" FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'").SingleAsync()) > 0);
            relay.Cut();
            converted = await call;
        }
        finally
        {
            await ExecuteAsync($"DROP TRIGGER {name} ON sms_sends", $"DROP FUNCTION {name}()");
            relay.Restore();
        }

        Assert.Equal(30, converted.Code);
        Assert.Equal(temp.Id, converted.Id);
        Assert.False(await DbAsync(db => db.Set<GuestAccount>().AnyAsync(g => g.Uid == temp.Id && g.Temporary)));
        Assert.Empty(fixture.Inbox.MessagesTo(e164));
        await ExpectActivationSentAtLoginAsync(sms, national, e164, passwd, temp.Id);
    }

    [Fact]
    public async Task Endpoints_MoveUnderTheConfiguredBasePath()
    {
        await using var node = await fixture.StartNodeWithAsync(new Dictionary<string, string?> { ["Pan:Guests:BasePath"] = "/apinode" });
        var secret = fixture.SecretOf(GuestFixture.PlainApp);

        Assert.Equal(0, (await new ApinodeClient(node, GuestFixture.PlainApp, secret, "/apinode").CreateTempAsync()).Code);
        using var response = await node.Http.PostAsync("/admin/user/createTemp", null);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task CreateTemp_BeyondTheHourlyCapOfOneAddress_Is13()
    {
        var since = fixture.Server.Clock.GetUtcNow().AddHours(-1);
        var made = await DbAsync(db => db.Set<GuestAccount>().CountAsync(g => g.CreatedIp == "127.0.0.1" && g.Created > since));
        var cap = (made + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var node = await fixture.StartNodeWithAsync(new Dictionary<string, string?> { ["Pan:Guests:CreateTempPerIpPerHour"] = cap });
        var client = new ApinodeClient(node, GuestFixture.PlainApp, fixture.SecretOf(GuestFixture.PlainApp));

        Assert.Equal(0, (await client.CreateTempAsync()).Code);
        var refused = await client.CreateTempAsync();

        Assert.Equal((13, false), (refused.Code, refused.HasToken));
    }

    [Fact]
    public async Task CreateTemp_TwentyParallelCallsFromOneAddress_MakeNoMoreAccountsThanTheCap()
    {
        await using var node = await fixture.StartNodeWithAsync(new Dictionary<string, string?>
        {
            ["Pan:Guests:CreateTempPerIpPerHour"] = "3", ["Pan:Network:TrustedProxies:0"] = "127.0.0.1",
        });
        var address = $"10.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(1, 250)}";

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => CreateTempFromAsync(node, address)));

        Assert.Equal(3, answers.Count(a => a.Code == 0));
        Assert.All(answers.Where(a => a.Code != 0), a => Assert.Equal(13, a.Code));
    }

    [Fact]
    public async Task AccNameOk_PastTheHourlyLookupsOfOneAddress_Is13_AlikeForTakenAndFreePhones()
    {
        // accNameOk of a mobile app tells whether a phone has a Pan account, as Login's check-existence step does: it
        // must not be an unlimited oracle beside that step's limits.
        await using var node = await fixture.StartNodeWithAsync(new Dictionary<string, string?>
        {
            ["Pan:Guests:NameLookupsPerIpPerHour"] = "3", ["Pan:Network:TrustedProxies:0"] = "127.0.0.1",
        });
        var address = $"10.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(1, 250)}";
        var member = await TestMembers.CreateAsync(fixture.Server);
        var taken = await DbAsync(db => db.Accounts.Where(a => a.Id == member.AccountId).Select(a => a.PhoneE164).FirstAsync());
        var free = PhoneFlows.Phones.NewNumber().E164;

        var answers = new List<ApinodeAnswer>();
        foreach (var phone in new[] { taken!, free, taken!, taken!, free })
        {
            answers.Add(await CallFromAsync(node, address, GuestFixture.SmsApp, "accNameOk", new Dictionary<string, string> { ["accName"] = phone }));
        }

        Assert.Equal([0, 0, 0, 13, 13], answers.Select(a => a.Code));
        Assert.Equal([false, true, false], answers.Take(3).Select(a => a.Value.GetProperty("isOk").GetBoolean()));
        Assert.All(answers.Skip(3), a => Assert.False(a.Body.TryGetProperty("value", out _)));
        var elsewhere = await CallFromAsync(node, $"10.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(1, 250)}", GuestFixture.SmsApp, "accNameOk", new Dictionary<string, string> { ["accName"] = free });
        Assert.Equal(0, elsewhere.Code);
    }

    /// <summary>
    /// Two nodes on one database count one client address's name look-ups together: accNameOk and convertTemp calls
    /// taking turns between the nodes reach the hourly cap, which then refuses (13) on either.
    /// </summary>
    [Fact]
    public async Task TwoNodes_NameLookupsOfOneAddress_TakingTurns_ReachOneCap_ThatRefusesOnEither()
    {
        var settings = new Dictionary<string, string?> { ["Pan:Guests:NameLookupsPerIpPerHour"] = "3", ["Pan:Network:TrustedProxies:0"] = "127.0.0.1" };
        await using var first = await fixture.StartNodeWithAsync(settings);
        await using var second = await fixture.StartNodeWithAsync(settings);
        var address = $"10.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(1, 250)}";
        var free = PhoneFlows.Phones.NewNumber().E164;
        var temp = await new ApinodeClient(fixture.Server, GuestFixture.SmsApp, fixture.SecretOf(GuestFixture.SmsApp)).CreateTempAsync();

        var answers = new List<int>
        {
            (await CallFromAsync(first, address, GuestFixture.SmsApp, "accNameOk", new Dictionary<string, string> { ["accName"] = free })).Code,
            (await CallFromAsync(second, address, GuestFixture.SmsApp, "accNameOk", new Dictionary<string, string> { ["accName"] = free })).Code,
            (await CallFromAsync(first, address, GuestFixture.SmsApp, "accNameOk", new Dictionary<string, string> { ["accName"] = free })).Code,
            (await CallFromAsync(second, address, GuestFixture.SmsApp, "accNameOk", new Dictionary<string, string> { ["accName"] = free })).Code,
            (await CallFromAsync(first, address, GuestFixture.SmsApp, "accNameOk", new Dictionary<string, string> { ["accName"] = free })).Code,
        };
        using var convert = new HttpRequestMessage(HttpMethod.Post, "/admin/user/convertTemp")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new Dictionary<string, string> { ["accName"] = free, ["passwd"] = ApinodeClient.ClientHash() }),
        };
        convert.Headers.Add("x-deva-appcode", GuestFixture.SmsApp);
        convert.Headers.Add("x-deva-appsecret", fixture.SecretOf(GuestFixture.SmsApp));
        convert.Headers.Add("x-deva-token", temp.Token);
        convert.Headers.Add("X-Forwarded-For", address);
        answers.Add((await ApinodeClient.SendAsync(second.Http, convert)).Code);

        Assert.Equal([0, 0, 0, 13, 13, 13], answers);
        Assert.Empty(fixture.Inbox.MessagesTo(free));
    }

    [Fact]
    public async Task CreateTemp_FromAddressesOfOneIpv6Slash64_ShareOneCap()
    {
        // One subscriber holds a whole /64: rotating through its addresses must not lift the cap.
        await using var node = await fixture.StartNodeWithAsync(new Dictionary<string, string?>
        {
            ["Pan:Guests:CreateTempPerIpPerHour"] = "2", ["Pan:Network:TrustedProxies:0"] = "127.0.0.1",
        });
        var prefix = $"2001:db8:{Random.Shared.Next(1, 0xffff):x}:{Random.Shared.Next(1, 0xffff):x}";

        var first = await CreateTempFromAsync(node, prefix + "::1");
        var second = await CreateTempFromAsync(node, prefix + "::2");
        var third = await CreateTempFromAsync(node, prefix + "::3");
        var otherPrefix = await CreateTempFromAsync(node, $"2001:db8:{Random.Shared.Next(1, 0xffff):x}:{Random.Shared.Next(1, 0xffff):x}::1");

        Assert.Equal((0, 0, 13, 0), (first.Code, second.Code, third.Code, otherPrefix.Code));
    }

    [Theory]
    [InlineData(null, GuestFixture.PlainApp, 0)]
    [InlineData("3", GuestFixture.PlainApp, 0)]
    [InlineData(GuestFixture.PlainApp, GuestFixture.EmailApp, -12)]
    [InlineData(null, null, -12)]
    public async Task AppKey_NamesTheAppLikeAppCode_AndBothMustAgree(string? appCode, string? appKey, int code)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/user/createTemp") { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
        if (appCode is not null)
        {
            request.Headers.Add("x-deva-appcode", appCode);
        }

        if (appKey is not null)
        {
            request.Headers.Add("x-deva-appkey", appKey);
        }

        request.Headers.Add("x-deva-appsecret", fixture.SecretOf(GuestFixture.PlainApp));

        Assert.Equal(code, (await ApinodeClient.SendAsync(fixture.Server.Http, request)).Code);
    }

    [Theory]
    [InlineData("email", "not-an-email", 4)]
    [InlineData("mobile", "12345", 5)]
    [InlineData("mobile", "+886 2 2345 6789", 5)] // a landline cannot receive the activation SMS
    [InlineData("mobile", "0800 000 123", 5)] // toll-free, read in the default region TW
    [InlineData("dspName", "!", 6)]
    [InlineData("dspName", "name\uFFFE", 6)] // U+FFFE: text .NET cannot normalise, refused like any other symbol
    [InlineData("dspName", "x\u0301\u0302\u0303x\u0301\u0302\u0303x\u0301\u0302\u0303x\u0301\u0302\u0303x\u0301\u0302\u0303x\u0301\u0302\u0303x\u0301\u0302\u0303x\u0301\u0302\u0303x\u0301\u0302\u0303x\u0301\u0302\u0303x\u0301\u0302\u0303x\u0301\u0302\u0303x\u0301\u0302\u0303x\u0301\u0302\u0303x\u0301\u0302\u0303x\u0301\u0302\u0303x\u0301\u0302\u0303x\u0301\u0302\u0303x\u0301\u0302\u0303x\u0301\u0302\u0303", 6)] // 20 letters, 80 UTF-16 units: longer than a stored display name (64)
    [InlineData("dspName", "\uFDFA\uFDFA\uFDFA\uFDFA\uFDFA\uFDFA\uFDFA\uFDFA\uFDFA\uFDFA\uFDFA\uFDFA\uFDFA\uFDFA\uFDFA\uFDFA\uFDFA\uFDFA\uFDFA\uFDFA", 6)] // 20 letters whose key folds to 360 characters (128 stored)
    [InlineData("fname", "Ann\u0000", -16)] // NUL: no text column of PostgreSQL can hold it
    [InlineData("lname", "Lee\u0000", -16)]
    [InlineData("addr", "1 Main St\u0000", -16)]
    public async Task CreateTemp_WithABadField_AnswersItsCode_AndCreatesNothing(string field, string value, int code)
    {
        var before = await DbAsync(db => db.Members.CountAsync());

        var answer = await EmailApp.CreateTempAsync(new Dictionary<string, string> { [field] = value });

        Assert.Equal((code, false), (answer.Code, answer.HasToken));
        Assert.Equal(before, await DbAsync(db => db.Members.CountAsync()));
    }

    [Fact]
    public async Task AccountName_WithFffe_IsNoName_AndALoginThatFails()
    {
        // U+FFFE is valid UTF-8 but cannot be Unicode-normalised: it is refused like any bad character, never −100.
        var name = PhoneFlows.Phones.NewName() + "\uFFFE";

        var ok = await PlainApp.CallAsync("accNameOk", new Dictionary<string, string> { ["accName"] = name });
        var login = await PlainApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = name, ["passwd"] = ApinodeClient.ClientHash() });

        Assert.Equal((1, 3), (ok.Code, login.Code));
    }

    [Fact]
    public async Task CreateTemp_WithATakenDisplayName_Is12()
    {
        var name = PhoneFlows.Phones.NewName();
        Assert.Equal(0, (await EmailApp.CreateTempAsync(new Dictionary<string, string> { ["dspName"] = name })).Code);

        Assert.Equal(12, (await EmailApp.CreateTempAsync(new Dictionary<string, string> { ["dspName"] = name.ToUpperInvariant() })).Code);
    }

    [Fact]
    public async Task ActivationMail_IsInTraditionalChinese_WhenLocIs2()
    {
        var temp = await EmailApp.CreateTempAsync();
        var address = Mailboxes.NewAddress();
        Assert.Equal(0, (await EmailApp.CallAsync("convertTemp", new Dictionary<string, string>
        {
            ["accName"] = address, ["passwd"] = ApinodeClient.ClientHash(), ["_loc"] = "2",
        }, temp.Token)).Code);

        Assert.Equal("啟用您的 Pan 帳號", (await fixture.Smtp.WaitForMessageAsync(address)).Subject);
    }

    [Fact]
    public async Task GuestSettingsCommand_PrintsAndValidatesTheSettings()
    {
        var shown = await PanCli.RunAsync(fixture.Database, "apps", "guest-settings", GuestFixture.SmsApp);
        Assert.Equal(0, shown.ExitCode);
        Assert.Contains("account-name=mobile activation=sms locale=zh-TW", shown.Output, StringComparison.Ordinal);

        Assert.Equal(2, (await PanCli.RunAsync(fixture.Database, "apps", "guest-settings", GuestFixture.SmsApp, "--activation", "pigeon")).ExitCode);
        Assert.Equal(2, (await PanCli.RunAsync(fixture.Database, "apps", "guest-settings", "no-such-app")).ExitCode);
        Assert.Equal(2, (await PanCli.RunAsync(fixture.Database, "apps", "guest-settings", GuestFixture.SmsApp, "--locale", "fr")).ExitCode);
    }

    [Fact]
    public async Task DeletingTheMember_RevokesItsApinodeTokens_AndFreesItsAccountName()
    {
        var temp = await PlainApp.CreateTempAsync();
        var name = "del_" + Guid.NewGuid().ToString("N")[..12];
        var converted = await PlainApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = name, ["passwd"] = ApinodeClient.ClientHash() }, temp.Token);
        Assert.Equal(0, converted.Code);
        var login = converted.Token;

        // Why in-process: this checks what MemberDeletion erases; the guest's own route (deleteVerify, delete) has GuestDeletionBehaviour.
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var member = await scope.ServiceProvider.GetRequiredService<PanDbContext>().Members.AsNoTracking().FirstAsync(m => m.Uid == temp.Id);
            var tokens = scope.ServiceProvider.GetRequiredService<Pan.Server.Tokens.TokenService>();
            var delToken = await tokens.IssueVerifyTokenAsync(member.Uid, Pan.Server.Tokens.VerifyPurposes.Delete, CancellationToken.None);
            var caller = new Pan.Server.Tokens.AccessTokenInfo(member.Uid, member.ObjectId, member.AccountId, 0, GuestFixture.PlainApp, DateTimeOffset.MaxValue, string.Empty);
            var outcome = await scope.ServiceProvider.GetRequiredService<Pan.Server.Deletion.MemberDeletion>().DeleteMemberAsync(caller, delToken.Token, CancellationToken.None);
            Assert.Equal(Pan.Server.Deletion.DeletionOutcome.Deleted, outcome);
        }

        Assert.Equal(-3, (await PlainApp.CallAsync("logout", token: login)).Code);
        Assert.False(await DbAsync(db => db.Set<GuestAccount>().AnyAsync(g => g.Uid == temp.Id)));
        Assert.True((await PlainApp.CallAsync("accNameOk", new Dictionary<string, string> { ["accName"] = name })).Value.GetProperty("isOk").GetBoolean());
    }

    /// <summary>
    /// A login with the right password of a converted SMS-app account whose activation was never sent: 4 with an actID,
    /// the code texted, and the code activates the account (a node that lost its database may need a few tries first).
    /// </summary>
    private async Task ExpectActivationSentAtLoginAsync(ApinodeClient sms, string national, string e164, string passwd, long uid)
    {
        ApinodeAnswer pending = null!;
        await Eventually.HoldsAsync(async () => (pending = await sms.CallAsync("login", new Dictionary<string, string> { ["accName"] = national, ["passwd"] = passwd })).Code != -30);
        Assert.Equal(4, pending.Code);
        Assert.NotEmpty(pending.Value.GetProperty("actID").GetString()!);
        var code = await fixture.Inbox.WaitForCodeAsync(e164, PhoneFlows.Phones.Wait);
        var activated = await ApinodeClient.SendAsync(fixture.Server.Http, new HttpRequestMessage(HttpMethod.Get, $"/admin/user/activate/{code}@{Uri.EscapeDataString(e164)}"));
        Assert.Equal((0, uid), (activated.Code, activated.Id));
        Assert.Equal(0, (await sms.CallAsync("login", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = passwd })).Code);
    }

    private async Task ExecuteAsync(params string[] statements)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PanDbContext>();
        foreach (var sql in statements)
        {
            await db.Database.ExecuteSqlRawAsync(sql);
        }
    }

    /// <summary>A converted email-app account waiting for activation: (address, passwd, the mailed link).</summary>
    private async Task<(string Address, string Passwd, Uri Link)> ConvertPendingAsync()
    {
        var temp = await EmailApp.CreateTempAsync();
        var address = Mailboxes.NewAddress();
        var passwd = ApinodeClient.ClientHash();
        Assert.Equal(0, (await EmailApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = address, ["passwd"] = passwd }, temp.Token)).Code);
        var text = (await fixture.Smtp.WaitForMessageAsync(address)).TextBody ?? string.Empty;
        var match = System.Text.RegularExpressions.Regex.Match(text, @"https?://\S+/admin/user/activate/[A-Za-z0-9_\-%]+");
        Assert.True(match.Success, text);
        return (address, passwd, new Uri(match.Value));
    }

    /// <summary>createTemp of the plain-name app as relayed by the trusted loopback proxy for <paramref name="address"/>.</summary>
    private Task<ApinodeAnswer> CreateTempFromAsync(PanServer node, string address) =>
        CallFromAsync(node, address, GuestFixture.PlainApp, "createTemp", new Dictionary<string, string>());

    /// <summary>An apinode call of <paramref name="appId"/> as relayed by the trusted loopback proxy for <paramref name="address"/>.</summary>
    private async Task<ApinodeAnswer> CallFromAsync(PanServer node, string address, string appId, string operation, Dictionary<string, string> parameters)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/user/" + operation) { Content = System.Net.Http.Json.JsonContent.Create(parameters) };
        request.Headers.Add("x-deva-appcode", appId);
        request.Headers.Add("x-deva-appsecret", fixture.SecretOf(appId));
        request.Headers.Add("X-Forwarded-For", address);
        return await ApinodeClient.SendAsync(node.Http, request);
    }

    private static LoginRequest Input(string session, string passwd) =>
        new() { Phase = LoginPhase.InputCode, LoginType = LoginType.Email, PhaseSessionToken = session, PhaseInputCodeValue = passwd };

    private async Task<T> DbAsync<T>(Func<PanDbContext, Task<T>> work)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<PanDbContext>());
    }
}

public sealed class GuestSafetyBehaviour_Sqlite(SqliteGuestFixture f) : GuestSafetyBehaviour<SqliteGuestFixture>(f);

public sealed class GuestSafetyBehaviour_Postgres(PostgresGuestFixture f) : GuestSafetyBehaviour<PostgresGuestFixture>(f);
