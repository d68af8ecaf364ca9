using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Credentials;
using Pan.Data.Guests;
using Pan.Server.BruteForce;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;
using PhoneFlowPhones = Pan.Tests.PhoneFlows.Phones;

namespace Pan.Tests.Guests;

/// <summary>
/// The apinode user endpoints: createTemp → convertTemp → activate (by a link read from a real SMTP server, or a code
/// from the SMS webhook) → login / logout, called over plain HTTP with the x-deva-* headers.
/// </summary>
public abstract partial class GuestBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : GuestFixture
{
    private ApinodeClient EmailApp => Client(GuestFixture.EmailApp);

    private ApinodeClient SmsApp => Client(GuestFixture.SmsApp);

    private ApinodeClient PlainApp => Client(GuestFixture.PlainApp);

    [Fact]
    public async Task CreateTemp_ReturnsTheMembersUid_AndATokenValidFor180Days()
    {
        var answer = await EmailApp.CreateTempAsync(new Dictionary<string, string> { ["fname"] = "Mei", ["aux"] = "{\"color\":\"red\"}" });

        Assert.Equal((200, 0, "Ok"), (answer.Status, answer.Code, answer.Message));
        Assert.True(answer.Id > 0);
        Assert.Equal(("", 0), (answer.Value.GetProperty("actID").GetString(), answer.Value.GetProperty("actScheme").GetInt32()));
        Assert.Equal(43, answer.Token.Length);
        Assert.Equal(fixture.Server.Clock.GetUtcNow().AddDays(180).ToUnixTimeMilliseconds(), answer.ValidTo);
        var member = await DbAsync(db => db.Members.AsNoTracking().Include(m => m.Account).FirstAsync(m => m.Uid == answer.Id));
        Assert.Null(member.Account!.PhoneE164);
        Assert.True(await DbAsync(db => db.Set<GuestAccount>().AnyAsync(g => g.Uid == answer.Id && g.Temporary)));
    }

    [Fact]
    public async Task TheMailedActivationLink_IsOnTheConfiguredBaseUrl_WhateverHostTheConversionNamed()
    {
        var temp = await EmailApp.CreateTempAsync();
        var address = Mailboxes.NewAddress();
        var passwd = ApinodeClient.ClientHash();

        var converted = await EmailApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = address, ["passwd"] = passwd }, temp.Token,
            headers: new Dictionary<string, string>
            {
                ["Host"] = "evil.example.net", ["X-Forwarded-Host"] = "evil.example.net", ["X-Forwarded-Proto"] = "https",
                ["Forwarded"] = "for=127.0.0.1;host=evil.example.net;proto=https",
            });

        Assert.Equal(0, converted.Code);
        var mail = await fixture.Smtp.WaitForMessageAsync(address);
        Assert.DoesNotContain("evil", (mail.TextBody ?? string.Empty) + (mail.HtmlBody ?? string.Empty), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(fixture.Server.HttpUri.GetLeftPart(UriPartial.Authority), ActivationLink(mail.TextBody).GetLeftPart(UriPartial.Authority));
    }

    [Fact]
    public async Task Guest_ConvertedWithEmailActivation_IsActivatedByTheMailedLink_AndKeepsItsUid()
    {
        var temp = await EmailApp.CreateTempAsync(new Dictionary<string, string> { ["aux"] = "{\"level\":3}" });
        var objectId = await DbAsync(db => db.Members.Where(m => m.Uid == temp.Id).Select(m => m.ObjectId).FirstAsync());
        var address = Mailboxes.NewAddress();
        var passwd = ApinodeClient.ClientHash();

        var converted = await EmailApp.CallAsync("convertTemp", new Dictionary<string, string>
        {
            ["accName"] = address, ["passwd"] = passwd, ["passwd2"] = passwd, ["fname"] = "Mei", ["lname"] = "Lin", ["_loc"] = "1",
        }, temp.Token);

        Assert.Equal(0, converted.Code);
        Assert.Equal((temp.Id, 1), (converted.Id, converted.Value.GetProperty("actScheme").GetInt32()));
        Assert.NotEmpty(converted.Value.GetProperty("actID").GetString()!);
        Assert.False(converted.HasToken);
        // The temporary token died with the conversion; the password does not work before activation.
        Assert.Equal(-3, (await EmailApp.CallAsync("logout", token: temp.Token)).Code);
        var early = await EmailApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = address, ["passwd"] = passwd });
        Assert.Equal((4, false), (early.Code, early.HasToken));

        var mail = await fixture.Smtp.WaitForMessageAsync(address);
        Assert.Equal("Activate your Pan account", mail.Subject);
        var link = ActivationLink(mail.TextBody);
        Assert.Equal(fixture.Server.HttpUri.Authority, link.Authority);
        var activated = await ApinodeClient.SendAsync(fixture.Server.Http, new HttpRequestMessage(HttpMethod.Get, link));
        Assert.Equal((0, temp.Id), (activated.Code, activated.Id));

        var login = await EmailApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = address.ToUpperInvariant(), ["passwd"] = passwd });
        Assert.Equal(0, login.Code);
        Assert.Equal(temp.Id, login.Value.GetProperty("userID").GetInt64());
        Assert.Equal(fixture.Server.Clock.GetUtcNow().AddDays(60).ToUnixTimeMilliseconds(), login.ValidTo);
        var member = await DbAsync(db => db.Members.AsNoTracking().FirstAsync(m => m.Uid == temp.Id));
        Assert.Equal((objectId, address, true), (member.ObjectId, member.Email, member.EmailVerified));
        var guest = await DbAsync(db => db.Set<GuestAccount>().AsNoTracking().FirstAsync(g => g.Uid == temp.Id));
        Assert.Equal(("{\"level\":3}", "Mei", "Lin", false), (guest.Aux, guest.FirstName, guest.LastName, guest.Temporary));
    }

    [Fact]
    public async Task Guest_ConvertedWithSmsActivation_IsActivatedByTheTextedCode_AndKeepsItsUid()
    {
        var temp = await SmsApp.CreateTempAsync();
        var (national, e164) = PhoneFlowPhones.NewNumber();
        var passwd = ApinodeClient.ClientHash();

        var converted = await SmsApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = national, ["passwd"] = passwd }, temp.Token, Send.Form);

        Assert.Equal((0, temp.Id, 2), (converted.Code, converted.Id, converted.Value.GetProperty("actScheme").GetInt32()));
        Assert.False(converted.HasToken);
        var code = await fixture.Inbox.WaitForCodeAsync(e164, PhoneFlowPhones.Wait);
        Assert.Contains("啟用碼", fixture.Inbox.MessagesTo(e164)[^1].Text, StringComparison.Ordinal);
        Assert.Equal(4, (await SmsApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = passwd })).Code);

        var activated = await ActivateAsync($"{code}@{national}");
        Assert.Equal((0, temp.Id), (activated.Code, activated.Id));

        var login = await SmsApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = passwd }, send: Send.Query);
        Assert.Equal((0, temp.Id), (login.Code, login.Value.GetProperty("userID").GetInt64()));
        var guest = await DbAsync(db => db.Set<GuestAccount>().AsNoTracking().FirstAsync(g => g.Uid == temp.Id));
        Assert.Equal<(string?, bool)>((e164, true), (guest.MobileE164, guest.MobileVerified));
    }

    /// <summary>
    /// A number an operator blocked names no guest account: convertTemp (as the account name of a mobile app, or as
    /// <c>mobile</c>) and createTemp (<c>mobile</c>) answer 7, send nothing and change nothing.
    /// </summary>
    [Fact]
    public async Task ConvertTempAndCreateTemp_WithABlockedMobile_Are7_AndSendNothing()
    {
        var temp = await SmsApp.CreateTempAsync();
        var (national, e164) = PhoneFlowPhones.NewNumber();
        await Pan.Tests.Admin.TestPhoneBlocks.BlockAsync(fixture.Server, e164);
        var sentBefore = fixture.Inbox.Requests;

        var byName = await SmsApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = national, ["passwd"] = ApinodeClient.ClientHash() }, temp.Token);
        var emailTemp = await EmailApp.CreateTempAsync();
        var byMobile = await EmailApp.CallAsync("convertTemp", new Dictionary<string, string>
        {
            ["accName"] = Mailboxes.NewAddress(), ["passwd"] = ApinodeClient.ClientHash(), ["mobile"] = e164,
        }, emailTemp.Token);
        var created = await EmailApp.CreateTempAsync(new Dictionary<string, string> { ["mobile"] = e164 });

        Assert.Equal((7, 7, 7), (byName.Code, byMobile.Code, created.Code));
        Assert.Equal("This number cannot be used.", byName.Message);
        Assert.Equal(sentBefore, fixture.Inbox.Requests);
        Assert.Equal(0, await DbAsync(db => db.Set<GuestAccount>().CountAsync(g => g.MobileE164 == e164)));
        Assert.Equal(2, await DbAsync(db => db.Set<GuestAccount>().CountAsync(g => (g.Uid == temp.Id || g.Uid == emailTemp.Id) && g.Temporary)));
    }

    /// <summary>
    /// An account converted with SMS activation whose number is blocked afterwards: the right password's login answers 7
    /// (as every other guest path does for a blocked number), whether a texted code is still live or the login would
    /// send a new one; nothing is written or sent.
    /// </summary>
    [Fact]
    public async Task Login_OfAPendingSmsAccount_WhoseNumberIsBlocked_Is7_AndSendsNothing()
    {
        var temp = await SmsApp.CreateTempAsync();
        var (national, e164) = PhoneFlowPhones.NewNumber();
        var passwd = ApinodeClient.ClientHash();
        Assert.Equal(0, (await SmsApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = national, ["passwd"] = passwd }, temp.Token)).Code);
        await fixture.Inbox.WaitForCodeAsync(e164, PhoneFlowPhones.Wait);
        await Pan.Tests.Admin.TestPhoneBlocks.BlockAsync(fixture.Server, e164);
        var sentBefore = fixture.Inbox.Requests;

        var whileLive = await SmsApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = passwd });
        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        var activationsBefore = await DbAsync(db => db.Set<GuestActivation>().CountAsync(a => a.Uid == temp.Id));
        var resend = await SmsApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = passwd });

        Assert.Equal((7, "This number cannot be used.", false), (whileLive.Code, whileLive.Message, whileLive.HasToken));
        Assert.Equal((7, "This number cannot be used.", false), (resend.Code, resend.Message, resend.HasToken));
        Assert.Equal(sentBefore, fixture.Inbox.Requests);
        Assert.Equal(activationsBefore, await DbAsync(db => db.Set<GuestActivation>().CountAsync(a => a.Uid == temp.Id)));
        // A wrong password still answers 3: only who knows the password learns of the block.
        Assert.Equal(3, (await SmsApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = ApinodeClient.ClientHash() })).Code);

        // Unblocked, the login sends a new code as before.
        await Pan.Tests.Admin.TestPhoneBlocks.UnblockAsync(fixture.Server, e164);
        var again = await SmsApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = passwd });
        Assert.Equal(4, again.Code);
        Assert.NotEmpty(again.Value.GetProperty("actID").GetString()!);
    }

    /// <summary>
    /// A code texted before the number was blocked activates nothing after the block: 7, the account stays pending and
    /// the code unspent (it works once the block is lifted), as phone sign-in refuses such a code.
    /// </summary>
    [Fact]
    public async Task Activate_WithACodeTextedBeforeTheNumberWasBlocked_Is7_AndLeavesTheCodeUnspent()
    {
        var temp = await SmsApp.CreateTempAsync();
        var (national, e164) = PhoneFlowPhones.NewNumber();
        Assert.Equal(0, (await SmsApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = national, ["passwd"] = ApinodeClient.ClientHash() }, temp.Token)).Code);
        var code = await fixture.Inbox.WaitForCodeAsync(e164, PhoneFlowPhones.Wait);
        await Pan.Tests.Admin.TestPhoneBlocks.BlockAsync(fixture.Server, e164);

        var refused = await ActivateAsync($"{code}@{national}");

        Assert.Equal((7, "This number cannot be used."), (refused.Code, refused.Message));
        var pending = await DbAsync(db => db.Set<GuestActivation>().AsNoTracking().SingleAsync(a => a.Uid == temp.Id));
        Assert.Equal<(DateTimeOffset?, int)>((null, 0), (pending.UsedAt, pending.Attempts));
        Assert.Null((await DbAsync(db => db.Set<GuestAccount>().AsNoTracking().FirstAsync(g => g.Uid == temp.Id))).Activated);

        await Pan.Tests.Admin.TestPhoneBlocks.UnblockAsync(fixture.Server, e164);
        var activated = await ActivateAsync($"{code}@{national}");
        Assert.Equal((0, temp.Id), (activated.Code, activated.Id));
    }

    /// <summary>
    /// A block of the number that commits while the code is being submitted (after the early check, before the code is
    /// spent) refuses it too: 7, the code unspent. On PostgreSQL the activation waits for the uncommitted block; on
    /// SQLite for its write lock.
    /// </summary>
    [Fact]
    public async Task Activate_WhileABlockOfTheNumberIsUncommitted_WaitsForIt_AndIs7_LeavingTheCodeUnspent()
    {
        var temp = await SmsApp.CreateTempAsync();
        var (national, e164) = PhoneFlowPhones.NewNumber();
        Assert.Equal(0, (await SmsApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = national, ["passwd"] = ApinodeClient.ClientHash() }, temp.Token)).Code);
        var code = await fixture.Inbox.WaitForCodeAsync(e164, PhoneFlowPhones.Wait);
        Task<ApinodeAnswer> call;
        bool waited;
        await using (var block = await Pan.Tests.Admin.UncommittedBlock.StartAsync(fixture.Server, fixture.Database, e164))
        {
            call = Task.Run(() => ActivateAsync($"{code}@{national}"));
            waited = await block.WaitUntilBlockingAsync(call);
            if (!waited)
            {
                // SQLite shows no waiting statement: give the call the time to read the block's absence first.
                await Task.Delay(500);
            }

            await block.CommitAsync();
        }

        var refused = await call;
        Assert.Equal((7, "This number cannot be used."), (refused.Code, refused.Message));
        var pending = await DbAsync(db => db.Set<GuestActivation>().AsNoTracking().SingleAsync(a => a.Uid == temp.Id));
        Assert.Equal<(DateTimeOffset?, int)>((null, 0), (pending.UsedAt, pending.Attempts));
        Assert.Null((await DbAsync(db => db.Set<GuestAccount>().AsNoTracking().FirstAsync(g => g.Uid == temp.Id))).Activated);
        Assert.True(waited || fixture.Database.Provider != "postgres", "activate answered without waiting for the number's block");
        await Pan.Tests.Admin.TestPhoneBlocks.UnblockAsync(fixture.Server, e164);
    }

    [Fact]
    public async Task Activate_WithAWrongCode_OrAReusedCode_IsRefused()
    {
        var temp = await SmsApp.CreateTempAsync();
        var (national, e164) = PhoneFlowPhones.NewNumber();
        var converted = await SmsApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = ApinodeClient.ClientHash() }, temp.Token);
        Assert.Equal(0, converted.Code);
        var code = await fixture.Inbox.WaitForCodeAsync(e164, PhoneFlowPhones.Wait);
        var wrong = ((int.Parse(code, System.Globalization.CultureInfo.InvariantCulture) + 1) % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(2, (await ActivateAsync($"{wrong}@{national}")).Code);
        Assert.Equal(2, (await ActivateAsync($"{code}@0911111111")).Code);
        Assert.Equal(2, (await ActivateAsync("not-a-code")).Code);
        Assert.Equal(0, (await ActivateAsync($"{code}@{national}")).Code);
        Assert.Equal(2, (await ActivateAsync($"{code}@{national}")).Code);
    }

    [Fact]
    public async Task Activate_WithTheRightCode_WhileTheMemberIsLocked_IsRefusedLikeAWrongOne_AndKeepsTheCode()
    {
        // SECURITY 10: a locked member's secrets are refused without being looked at, the right one too.
        var temp = await SmsApp.CreateTempAsync();
        var (national, e164) = PhoneFlowPhones.NewNumber();
        Assert.Equal(0, (await SmsApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = ApinodeClient.ClientHash() }, temp.Token)).Code);
        var code = await fixture.Inbox.WaitForCodeAsync(e164, PhoneFlowPhones.Wait);
        var maxFailures = fixture.Server.Services.GetRequiredService<IOptions<BruteForceOptions>>().Value.MaxFailures;
        await UseAsync<FailureCounter, bool>(async counter =>
        {
            for (var i = 0; i < maxFailures; i++)
            {
                await counter.RecordFailureAsync(temp.Id, default);
            }

            return (await counter.StateAsync(temp.Id, default)).Locked;
        });

        Assert.Equal(2, (await ActivateAsync($"{code}@{national}")).Code);
        Assert.Null((await DbAsync(db => db.Set<GuestAccount>().AsNoTracking().FirstAsync(g => g.Uid == temp.Id))).Activated);

        // An operator releases the lock: the code was not spent by the refused try.
        await UseAsync<FailureCounter, bool>(async counter =>
        {
            await counter.ResetAsync(temp.Id, default);
            return true;
        });
        var activated = await ActivateAsync($"{code}@{national}");
        Assert.Equal((0, temp.Id), (activated.Code, activated.Id));
    }

    [Fact]
    public async Task Activate_TheSameMailedLinkTwice_IsRefusedTheSecondTime()
    {
        var temp = await EmailApp.CreateTempAsync();
        var address = Mailboxes.NewAddress();
        Assert.Equal(0, (await EmailApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = address, ["passwd"] = ApinodeClient.ClientHash() }, temp.Token)).Code);
        var link = ActivationLink((await fixture.Smtp.WaitForMessageAsync(address)).TextBody);

        Assert.Equal(0, (await ApinodeClient.SendAsync(fixture.Server.Http, new HttpRequestMessage(HttpMethod.Get, link))).Code);
        var again = await ApinodeClient.SendAsync(fixture.Server.Http, new HttpRequestMessage(HttpMethod.Get, link));
        Assert.Equal((200, 2), (again.Status, again.Code));
    }

    [Fact]
    public async Task Activate_AfterTheCodeExpired_IsRefused()
    {
        var temp = await SmsApp.CreateTempAsync();
        var (national, e164) = PhoneFlowPhones.NewNumber();
        Assert.Equal(0, (await SmsApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = ApinodeClient.ClientHash() }, temp.Token)).Code);
        var code = await fixture.Inbox.WaitForCodeAsync(e164, PhoneFlowPhones.Wait);
        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));

        Assert.Equal(2, (await ActivateAsync($"{code}@{national}")).Code);
    }

    [Theory]
    [InlineData("missing-accName", 1)]
    [InlineData("missing-passwd", 2)]
    [InlineData("passwd2-differs", 3)]
    [InlineData("email-app-not-an-email", 4)]
    [InlineData("sms-app-not-a-mobile", 5)]
    [InlineData("sms-app-a-landline", 5)]
    [InlineData("sms-app-premium-rate", 5)]
    [InlineData("plain-app-a-name-that-folds-too-long", 1)]
    public async Task ConvertTemp_BadArguments_AnswerTheirCodes(string problem, int code)
    {
        var client = problem.StartsWith("sms-app-", StringComparison.Ordinal) ? SmsApp
            : problem.StartsWith("plain-app-", StringComparison.Ordinal) ? PlainApp : EmailApp;
        var temp = await client.CreateTempAsync();
        var passwd = ApinodeClient.ClientHash();
        var parameters = new Dictionary<string, string> { ["accName"] = Mailboxes.NewAddress(), ["passwd"] = passwd, ["passwd2"] = passwd };
        switch (problem)
        {
            case "missing-accName":
                parameters.Remove("accName");
                break;
            case "missing-passwd":
                parameters.Remove("passwd");
                break;
            case "passwd2-differs":
                parameters["passwd2"] = ApinodeClient.ClientHash();
                break;
            case "email-app-not-an-email":
                parameters["accName"] = "just-a-name";
                break;
            case "sms-app-not-a-mobile":
                parameters["accName"] = "12";
                break;
            case "sms-app-a-landline":
                parameters["accName"] = "+886 2 2345 6781";
                break;
            case "sms-app-premium-rate":
                parameters["accName"] = "0204 123 457";
                break;
            case "plain-app-a-name-that-folds-too-long":
                // 32 letters, but U+FDFA (one Arabic ligature) folds to 18 characters each: no account key can hold it.
                parameters["accName"] = new string('\uFDFA', 32);
                break;
        }

        var sentBefore = fixture.Inbox.Requests;
        var answer = await client.CallAsync("convertTemp", parameters, temp.Token);

        Assert.Equal((200, code), (answer.Status, answer.Code));
        Assert.Equal(sentBefore, fixture.Inbox.Requests);
        // Nothing changed: the account is still temporary and its token still works.
        Assert.True(await DbAsync(db => db.Set<GuestAccount>().AnyAsync(g => g.Uid == temp.Id && g.Temporary)));
        Assert.Equal(0, (await client.CallAsync("logout", token: temp.Token)).Code);
    }

    [Fact]
    public async Task ConvertTemp_WithAnAccountNameAlreadyTaken_Is10_InAnyCase()
    {
        var address = Mailboxes.NewAddress();
        var first = await EmailApp.CreateTempAsync();
        Assert.Equal(0, (await EmailApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = address, ["passwd"] = ApinodeClient.ClientHash() }, first.Token)).Code);
        var second = await EmailApp.CreateTempAsync();

        var answer = await EmailApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = address.ToLowerInvariant(), ["passwd"] = ApinodeClient.ClientHash() }, second.Token);

        Assert.Equal(10, answer.Code);
        Assert.Equal(0, (await EmailApp.CallAsync("accNameOk", new Dictionary<string, string> { ["accName"] = Mailboxes.NewAddress() })).Code);
        var taken = await EmailApp.CallAsync("accNameOk", new Dictionary<string, string> { ["accName"] = address }, send: Send.Query);
        Assert.False(taken.Value.GetProperty("isOk").GetBoolean());
        var free = await EmailApp.CallAsync("accNameOk", new Dictionary<string, string> { ["accName"] = Mailboxes.NewAddress() });
        Assert.True(free.Value.GetProperty("isOk").GetBoolean());
    }

    [Fact]
    public async Task ConvertTemp_WithoutActivation_ReturnsAFreshToken_LoginAndLogoutWork_AndThePasswordIsStoredAsArgon2id()
    {
        var temp = await PlainApp.CreateTempAsync();
        var name = "guest_" + Guid.NewGuid().ToString("N")[..10];
        var passwd = ApinodeClient.ClientHash();

        var converted = await PlainApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = name, ["passwd"] = passwd, ["dspName"] = PhoneFlowPhones.NewName() }, temp.Token);

        Assert.Equal((0, temp.Id, 0, ""), (converted.Code, converted.Id, converted.Value.GetProperty("actScheme").GetInt32(), converted.Value.GetProperty("actID").GetString()));
        Assert.NotEqual(temp.Token, converted.Token);
        Assert.Equal(fixture.Server.Clock.GetUtcNow().AddDays(60).ToUnixTimeMilliseconds(), converted.ValidTo);
        Assert.Equal(-3, (await PlainApp.CallAsync("logout", token: temp.Token)).Code);
        Assert.Equal(20, (await PlainApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = name + "x", ["passwd"] = passwd }, converted.Token)).Code);

        var hash = await DbAsync(db => db.Set<MemberCredential>().Where(c => c.Uid == temp.Id).Select(c => c.PasswordHash).FirstAsync());
        Assert.StartsWith("$argon2id$", hash, StringComparison.Ordinal);
        Assert.DoesNotContain(passwd, hash!, StringComparison.Ordinal);

        Assert.Equal(3, (await PlainApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = name, ["passwd"] = ApinodeClient.ClientHash() })).Code);
        Assert.Equal(3, (await PlainApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = "nobody_" + name, ["passwd"] = passwd })).Code);
        var login = await PlainApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = name.ToUpperInvariant(), ["passwd"] = passwd }, send: Send.Form);
        Assert.Equal((0, temp.Id), (login.Code, login.Id));
        Assert.Equal(0, (await PlainApp.CallAsync("logout", token: login.Token)).Code);
        Assert.Equal(-3, (await PlainApp.CallAsync("logout", token: login.Token)).Code);
        Assert.Equal(0, (await PlainApp.CallAsync("logout", token: converted.Token)).Code);
    }

    [Fact]
    public async Task FrameworkErrors_HaveTheirCodes_WithHttp200()
    {
        var temp = await EmailApp.CreateTempAsync();
        Assert.Equal(-12, (await new ApinodeClient(fixture.Server, "no-such-app", "x").CreateTempAsync()).Code);
        Assert.Equal(-20, (await new ApinodeClient(fixture.Server, GuestFixture.EmailApp, fixture.SecretOf(GuestFixture.SmsApp)).CreateTempAsync()).Code);
        Assert.Equal(-2, (await EmailApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = Mailboxes.NewAddress() })).Code);
        Assert.Equal(-3, (await EmailApp.CallAsync("logout", token: "garbage")).Code);
        Assert.Equal(-3, (await SmsApp.CallAsync("logout", token: temp.Token)).Code);
        Assert.Equal(-14, (await EmailApp.CallAsync("noSuchThing")).Code);
        Assert.Equal(-11, (await EmailApp.CallAsync("a/b/c")).Code);
        Assert.Equal(-16, (await EmailApp.CreateTempAsync(new Dictionary<string, string> { ["aux"] = "{not json" })).Code);
        Assert.Equal(-16, (await EmailApp.CreateTempAsync(new Dictionary<string, string> { ["_loc"] = "7" })).Code);

        using var xml = new HttpRequestMessage(HttpMethod.Post, "/admin/user/createTemp") { Content = new StringContent("<a/>", System.Text.Encoding.UTF8, "application/xml") };
        xml.Headers.Add("x-deva-appcode", GuestFixture.EmailApp);
        xml.Headers.Add("x-deva-appsecret", fixture.SecretOf(GuestFixture.EmailApp));
        var wrongType = await ApinodeClient.SendAsync(fixture.Server.Http, xml);
        Assert.Equal((200, -1), (wrongType.Status, wrongType.Code));

        using var broken = new HttpRequestMessage(HttpMethod.Post, "/admin/user/login") { Content = new StringContent("{\"accName\":", System.Text.Encoding.UTF8, "application/json") };
        broken.Headers.Add("x-deva-appcode", GuestFixture.EmailApp);
        broken.Headers.Add("x-deva-appsecret", fixture.SecretOf(GuestFixture.EmailApp));
        Assert.Equal(-16, (await ApinodeClient.SendAsync(fixture.Server.Http, broken)).Code);
    }

    [Theory]
    [InlineData("{\"accName\":\"a\\ud800b\",\"passwd\":\"x\"}")] // an unpaired surrogate escape
    [InlineData("{\"accName\":\"a\u00FFb\",\"passwd\":\"x\"}")] // sent as Latin-1: the byte 0xFF, not UTF-8
    [InlineData("{\"a\\udc00\":\"x\"}")] // in a name
    public async Task JsonTextThatIsNotValidUnicode_IsMinus16_NeverMinus100(string json)
    {
        foreach (var operation in new[] { "login", "createTemp", "activate/abc" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/user/" + operation)
            {
                Content = new ByteArrayContent(System.Text.Encoding.Latin1.GetBytes(json)) { Headers = { ContentType = new("application/json") } },
            };
            request.Headers.Add("x-deva-appcode", GuestFixture.EmailApp);
            request.Headers.Add("x-deva-appsecret", fixture.SecretOf(GuestFixture.EmailApp));

            var answer = await ApinodeClient.SendAsync(fixture.Server.Http, request);

            Assert.Equal((200, -16), (answer.Status, answer.Code));
        }
    }

    [Fact]
    public async Task TempToken_After180Days_IsExpired()
    {
        var temp = await PlainApp.CreateTempAsync();
        fixture.Server.Clock.Advance(TimeSpan.FromDays(180) + TimeSpan.FromSeconds(1));

        Assert.Equal(-4, (await PlainApp.CallAsync("logout", token: temp.Token)).Code);
    }

    private ApinodeClient Client(string appId) => new(fixture.Server, appId, fixture.SecretOf(appId));

    private Task<ApinodeAnswer> ActivateAsync(string actCode) =>
        ApinodeClient.SendAsync(fixture.Server.Http, new HttpRequestMessage(HttpMethod.Get, "/admin/user/activate/" + Uri.EscapeDataString(actCode)));

    private static Uri ActivationLink(string? text)
    {
        var match = LinkPattern().Match(text ?? string.Empty);
        return match.Success ? new Uri(match.Value) : throw new Xunit.Sdk.XunitException($"No activation link in: {text}");
    }

    private async Task<T> UseAsync<TService, T>(Func<TService, Task<T>> work)
        where TService : notnull
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<TService>());
    }

    private async Task<T> DbAsync<T>(Func<PanDbContext, Task<T>> work)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<PanDbContext>());
    }

    [GeneratedRegex(@"https?://\S+/admin/user/activate/[A-Za-z0-9_\-%]+", RegexOptions.CultureInvariant)]
    private static partial Regex LinkPattern();
}

public sealed class GuestBehaviour_Sqlite(SqliteGuestFixture f) : GuestBehaviour<SqliteGuestFixture>(f);

public sealed class GuestBehaviour_Postgres(PostgresGuestFixture f) : GuestBehaviour<PostgresGuestFixture>(f);
