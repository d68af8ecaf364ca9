using Microsoft.EntityFrameworkCore;
using Pan.Data.Credentials;
using Pan.Data.Guests;
using Pan.Data.Tokens;
using Pan.Tests.Deletion;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;
using PhoneFlowPhones = Pan.Tests.PhoneFlows.Phones;

namespace Pan.Tests.Guests;

/// <summary>
/// The apinode endpoints racing the deletion of their member (SECURITY 12): what a call writes for the member — a login
/// token, an activation and its mail or text, a conversion, an activated password — either waits for the deletion and
/// is not written (the call answers as for an account that is gone), or commits first and is erased by the deletion.
/// Nothing naming the deleted member is left. <see cref="UncommittedDeletion"/> stops the deletion just before its
/// commit; on PostgreSQL the call meets it there, on SQLite (one writer at a time) mostly after its commit.
/// </summary>
public abstract partial class GuestDeletionBehaviour<TFixture>
{
    [Fact]
    public async Task Login_WhileTheMembersDeletionIsUncommitted_Is3_AndIssuesNoToken()
    {
        var (name, passwd, _) = await ConvertAsync();
        var uid = await DbAsync(db => db.Set<GuestAccount>().Where(g => g.AccountName == name).Select(g => g.Uid).FirstAsync());
        Task<ApinodeAnswer> call;
        bool waited;
        await using (var deletion = await UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, uid))
        {
            call = Task.Run(() => PlainApp.CallAsync("login", new Dictionary<string, string> { ["accName"] = name, ["passwd"] = passwd }));
            waited = await deletion.WaitUntilBlockingAsync(call);
            await deletion.CommitAsync();
        }

        var answer = await call;
        // The seed's "no such account" of login: the name is gone with its member.
        Assert.Equal((3, false), (answer.Code, answer.HasToken));
        Assert.Equal(0, await DbAsync(db => db.Set<GuestToken>().CountAsync(t => t.Uid == uid)));
        Assert.True(waited || fixture.Database.Provider != "postgres", "login answered without waiting for the member's deletion");
    }

    [Fact]
    public async Task PendingLogin_WhileTheMembersDeletionIsUncommitted_Is3_AndSendsNoActivation()
    {
        // A converted account whose activation text could not be sent: the next login with the right password would
        // make and text a new code. Its member's deletion is under way meanwhile.
        var sms = new ApinodeClient(fixture.Server, GuestFixture.SmsApp, fixture.SecretOf(GuestFixture.SmsApp));
        var temp = await sms.CreateTempAsync();
        var (_, e164) = PhoneFlowPhones.NewNumber();
        var passwd = ApinodeClient.ClientHash();
        fixture.Inbox.FailNext(1);
        Assert.Equal(30, (await sms.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = passwd }, temp.Token)).Code);
        var requestsBefore = fixture.Inbox.Requests;
        Task<ApinodeAnswer> call;
        bool waited;
        await using (var deletion = await UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, temp.Id))
        {
            call = Task.Run(() => sms.CallAsync("login", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = passwd }));
            waited = await deletion.WaitUntilBlockingAsync(call);
            await deletion.CommitAsync();
        }

        var answer = await call;
        Assert.Equal((3, false), (answer.Code, answer.Body.TryGetProperty("value", out _)));
        Assert.Empty(fixture.Inbox.MessagesTo(e164));
        Assert.Equal(requestsBefore, fixture.Inbox.Requests);
        Assert.Equal(0, await DbAsync(db => db.Set<GuestActivation>().CountAsync(a => a.Uid == temp.Id)));
        Assert.True(waited || fixture.Database.Provider != "postgres", "login answered without waiting for the member's deletion");
    }

    [Fact]
    public async Task ConvertTemp_WhileTheMembersDeletionIsUncommitted_IsMinus3_AndWritesNothing()
    {
        // −3 is the answer for a token whose member is deleted; 20 would tell the app the account was converted.
        var temp = await PlainApp.CreateTempAsync();
        var name = "gr_" + Guid.NewGuid().ToString("N")[..12];
        Task<ApinodeAnswer> call;
        bool waited;
        await using (var deletion = await UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, temp.Id))
        {
            call = Task.Run(() => PlainApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = name, ["passwd"] = ApinodeClient.ClientHash() }, temp.Token));
            waited = await deletion.WaitUntilBlockingAsync(call);
            await deletion.CommitAsync();
        }

        var answer = await call;
        Assert.Equal((-3, false), (answer.Code, answer.HasToken));
        Assert.Null(await DbAsync(db => db.Members.Where(m => m.Uid == temp.Id).Select(m => m.Username).FirstAsync()));
        Assert.False(await DbAsync(db => db.Set<MemberCredential>().AnyAsync(c => c.Uid == temp.Id)));
        Assert.False(await DbAsync(db => db.Set<GuestAccount>().AnyAsync(g => g.Uid == temp.Id)));
        Assert.Equal(0, await DbAsync(db => db.Set<GuestToken>().CountAsync(t => t.Uid == temp.Id)));
        Assert.True((await PlainApp.CallAsync("accNameOk", new Dictionary<string, string> { ["accName"] = name })).Value.GetProperty("isOk").GetBoolean());
        Assert.True(waited || fixture.Database.Provider != "postgres", "convertTemp answered without waiting for the member's deletion");
    }

    [Fact]
    public async Task DeleteVerify_WhileTheMembersDeletionIsUncommitted_IsMinus3_AndIssuesNoDelToken()
    {
        // −3 as for any token whose member is deleted; a del_token would name the deleted member.
        var temp = await PlainApp.CreateTempAsync();
        Task<ApinodeAnswer> call;
        bool waited;
        await using (var deletion = await UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, temp.Id))
        {
            call = Task.Run(() => PlainApp.CallAsync("deleteVerify", token: temp.Token));
            waited = await deletion.WaitUntilBlockingAsync(call);
            await deletion.CommitAsync();
        }

        var answer = await call;
        Assert.Equal((-3, false), (answer.Code, answer.Body.TryGetProperty("value", out _)));
        Assert.Equal(0, await DbAsync(db => db.Set<StoredVerifyToken>().CountAsync(t => t.Uid == temp.Id)));
        Assert.True(waited || fixture.Database.Provider != "postgres", "deleteVerify answered without waiting for the member's deletion");
    }

    [Theory]
    [InlineData(GuestFixture.SmsApp)]
    [InlineData(GuestFixture.EmailApp)]
    public async Task Activate_WhenTheMembersDeletionRunsBeforeItCommits_LeavesNoPasswordOnTheTombstone(string appId)
    {
        // The other order: activate has started writing (it used up the code) and is held before it stores the password,
        // by a lock on the credentials table. The deletion runs meanwhile, then activate goes on and commits. The
        // deletion must still erase what activate stored: it waits for activate's commit, or its erasers miss the
        // uncommitted password and leave the hash on the tombstone for good (texted code), or it and activate, marking
        // the email verified on the member's row, wait for each other (mailed link: PostgreSQL ends the deadlock and
        // activate answered −30). SQLite runs one writer at a time, so there the two run one after the other.
        var (uid, actCode) = await PendingActivationAsync(appId);
        Task<ApinodeAnswer> call;
        Task<UncommittedDeletion>? deleting = null;
        await using (await DatabaseLock.HoldAsync(fixture.Database, "member_credentials"))
        {
            call = Task.Run(() => ApinodeClient.SendAsync(fixture.Server.Http, new HttpRequestMessage(HttpMethod.Get, "/admin/user/activate/" + Uri.EscapeDataString(actCode))));
            if (fixture.Database.Provider == "postgres")
            {
                Assert.True(await LockWaits.UntilAsync(fixture.Database, 1, call));
                deleting = Task.Run(() => UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, uid));
                Assert.True(await LockWaits.UntilAsync(fixture.Database, 2, deleting));
            }
        }

        var answer = await call;
        await using (var deletion = await (deleting ?? UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, uid)))
        {
            await deletion.CommitAsync();
        }

        // The member was live when activate ran, so it activated the account; the deletion then took everything away.
        Assert.Equal(0, answer.Code);
        Assert.Equal(uid, answer.Id);
        Assert.False(await DbAsync(db => db.Set<MemberCredential>().AnyAsync(c => c.Uid == uid)));
        Assert.False(await DbAsync(db => db.Set<GuestAccount>().AnyAsync(g => g.Uid == uid)));
        Assert.Equal(0, await DbAsync(db => db.Set<GuestActivation>().CountAsync(a => a.Uid == uid)));
    }

    /// <summary>A converted account of <paramref name="appId"/> waiting for activation: its uid and the actCode it was sent.</summary>
    private async Task<(long Uid, string ActCode)> PendingActivationAsync(string appId)
    {
        var app = new ApinodeClient(fixture.Server, appId, fixture.SecretOf(appId));
        var temp = await app.CreateTempAsync();
        if (appId == GuestFixture.SmsApp)
        {
            var (_, e164) = PhoneFlowPhones.NewNumber();
            Assert.Equal(0, (await app.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = ApinodeClient.ClientHash() }, temp.Token)).Code);
            return (temp.Id, $"{await fixture.Inbox.WaitForCodeAsync(e164, PhoneFlowPhones.Wait)}@{e164}");
        }

        var address = Mailboxes.NewAddress();
        Assert.Equal(0, (await app.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = address, ["passwd"] = ApinodeClient.ClientHash() }, temp.Token)).Code);
        var text = (await fixture.Smtp.WaitForMessageAsync(address)).TextBody ?? string.Empty;
        var token = System.Text.RegularExpressions.Regex.Match(text, @"/admin/user/activate/([A-Za-z0-9_\-%]+)");
        Assert.True(token.Success, text);
        return (temp.Id, Uri.UnescapeDataString(token.Groups[1].Value));
    }
}
