using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.Email;
using Pan.Data.PhaseSessions;
using Pan.Data.Outbox;
using Pan.Data.Sms;
using Pan.General.Member;
using Pan.Server.Email;
using Pan.Server.Outbox;
using Pan.Server.Phones;
using Pan.Server.Recovery;
using Pan.Server.Sms;
using Pan.Tests.Deletion;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Recovery;

/// <summary>
/// AuthResetVerifyPhone answers without talking to the SMS provider (the text leaves through the SMS outbox, by way of
/// the SMS gate), so neither a provider outage nor the phone's exhausted SMS caps tell a matched request from an
/// unmatched one (SECURITY 15, 22), and a capped text still calls no provider (SECURITY 8).
/// </summary>
public abstract class PhoneRecoveryOutboxBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : EmailFixture
{
    private readonly Mailboxes mail = new(fixture);

    private MemberServiceV2.MemberServiceV2Client Client => mail.Client;

    [Fact]
    public async Task ResetRequest_DuringAProviderOutage_AnswersLikeAnUnmatchedOne_AndTheCodeArrivesWhenTheProviderIsBack()
    {
        var member = await mail.RegisterAsync();
        var (_, unknownPhone) = PhoneFlows.Phones.NewNumber();
        fixture.Inbox.FailNext(1000, System.Net.HttpStatusCode.ServiceUnavailable);
        (StatusCode, string) matched, otherName, otherPhone;
        try
        {
            matched = await AnswerAsync(member.Name, member.E164);
            // Why wait for the row: the outage must have been met (the text tried once, refused and handed back).
            await RefusedOnceAsync(member.Uid, 1);
            // Why 61 s: past the reset cool-down of the phone, short of the row's retry (72 s at the earliest, EmailFixture).
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
            otherName = await AnswerAsync("someone-else", member.E164);
            otherPhone = await AnswerAsync(member.Name, unknownPhone);
        }
        finally
        {
            fixture.Inbox.Recover();
        }

        Assert.Equal((StatusCode.OK, matched.Item2), matched);
        Assert.Equal(matched, otherName);
        Assert.Equal(matched, otherPhone);
        Assert.Single(fixture.Inbox.MessagesTo(member.E164)); // the registration code only
        var waiting = Assert.Single(await RowsAsync(member.Uid));
        Assert.NotNull(waiting.Payload);
        Assert.Equal(DeliveryOutcome.Queued, await OutcomeAsync(waiting));

        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(2));
        var code = await PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, member.E164, 2);
        var reset = await Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = code, Phone = member.E164, DisplayName = member.Name });
        Assert.Equal(43, reset.AuthResetToken.Length);
        Assert.Empty(fixture.Inbox.MessagesTo(unknownPhone));
    }

    /// <summary>
    /// A reset text whose first try met a provider outage, and whose number an operator blocked before the retry: the
    /// retry calls no provider (the number gets no SMS of any kind) and the row ends Blocked, PhoneBlocked.
    /// </summary>
    [Fact]
    public async Task QueuedResetSms_ToANumberBlockedBeforeItsRetry_IsNotSent()
    {
        var member = await mail.RegisterAsync();
        fixture.Inbox.FailNext(1000, System.Net.HttpStatusCode.ServiceUnavailable);
        try
        {
            await AnswerAsync(member.Name, member.E164);
            await RefusedOnceAsync(member.Uid, 1);
        }
        finally
        {
            fixture.Inbox.Recover();
        }

        await Pan.Tests.Admin.TestPhoneBlocks.BlockAsync(fixture.Server, member.E164);
        var requests = fixture.Inbox.Requests;
        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(2));

        await Eventually.HoldsAsync(async () => (await RowsAsync(member.Uid)).SingleOrDefault()?.State == OutboxState.Blocked);
        Assert.Equal(nameof(SmsBlockReason.PhoneBlocked), Assert.Single(await RowsAsync(member.Uid)).LastError);
        Assert.Equal(requests, fixture.Inbox.Requests);
        Assert.Single(fixture.Inbox.MessagesTo(member.E164)); // the registration code only
    }

    [Fact]
    public async Task ResetRequest_WhileThePhonesSmsCapsAreExhausted_AnswersLikeAnUnmatchedOne_AndCallsNoProvider()
    {
        var member = await mail.RegisterAsync();
        await fixture.Inbox.WaitForMessageAsync(member.E164, 1, PhoneFlows.Phones.Wait);
        await ExhaustPhoneCapsAsync(member.E164);
        var requests = fixture.Inbox.Requests;

        var matched = await AnswerAsync(member.Name, member.E164);
        await Eventually.HoldsAsync(async () => (await RowsAsync(member.Uid)).SingleOrDefault()?.State == OutboxState.Blocked);
        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        var unmatched = await AnswerAsync("someone-else", member.E164);

        Assert.Equal((StatusCode.OK, matched.Item2), matched);
        Assert.Equal(matched, unmatched);
        Assert.Equal(requests, fixture.Inbox.Requests);
        var row = Assert.Single(await RowsAsync(member.Uid));
        Assert.Null(row.Payload);
        Assert.NotNull(row.Finished);
        Assert.Equal(nameof(SmsBlockReason.PhoneHourlyCap), row.LastError);
        Assert.Equal(DeliveryOutcome.Skipped, await OutcomeAsync(row));
    }

    [Fact]
    public async Task SentResetSms_LeavesNoCodeInTheOutbox_AndTheRequestCountsAsSent()
    {
        var member = await mail.RegisterAsync();
        await Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = member.Name, Phone = member.E164 });
        var code = await PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, member.E164, 2);

        await Eventually.HoldsAsync(async () => (await RowsAsync(member.Uid)).All(r => r.State == OutboxState.Sent));
        var row = Assert.Single(await RowsAsync(member.Uid));
        Assert.Null(row.Payload);
        Assert.NotNull(row.Finished);
        Assert.Equal((1, SmsOutbox.ResetPassword), (row.Attempts, row.Kind));
        Assert.Equal(DeliveryOutcome.Sent, await OutcomeAsync(row));
        Assert.False(await mail.DbAsync(db => db.Set<SmsOutboxEntry>().AnyAsync(e => e.Payload != null && e.Payload.Contains(code))));
    }

    [Fact]
    public async Task TwoNodes_SendEachQueuedResetSmsExactlyOnce()
    {
        var members = new List<TestMember>();
        for (var i = 0; i < 6; i++)
        {
            members.Add(await mail.RegisterAsync());
        }

        await using var second = await fixture.StartNodeWithAsync(new Dictionary<string, string?>());
        var clients = new[] { Client, new MemberServiceV2.MemberServiceV2Client(second.Grpc) };
        var uids = members.Select(m => m.Uid).ToList();
        fixture.Inbox.FailNext(1000, System.Net.HttpStatusCode.ServiceUnavailable);
        try
        {
            // Queued on both nodes while the provider is down: every row is tried once and waits for its retry.
            for (var i = 0; i < members.Count; i++)
            {
                await clients[i % 2].AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = members[i].Name, Phone = members[i].E164 });
            }

            await Eventually.HoldsAsync(async () =>
            {
                var rows = await OutboxOfAsync(uids);
                return rows.Count == members.Count && rows.All(r => r is { State: OutboxState.Pending, Attempts: 1, ClaimedUntil: null, LastError: not null });
            });
        }
        finally
        {
            fixture.Inbox.Recover();
        }

        // Every row falls due at once; both nodes' senders (and their background workers) race for them.
        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(2));
        await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() =>
            (i % 2 == 0 ? fixture.Server : second).Services.GetRequiredService<SmsOutboxSender>().SendDueAsync(CancellationToken.None))));

        // Exact once every row is recorded sent: each claim adds one attempt (one refused, one sent), and a sender
        // records "sent" only after the provider accepted (and the inbox stored) the text.
        await Eventually.HoldsAsync(async () => (await OutboxOfAsync(uids)).All(r => r.State == OutboxState.Sent));
        Assert.All(await OutboxOfAsync(uids), r => Assert.Equal((OutboxState.Sent, (string?)null, 2), (r.State, r.Payload, r.Attempts)));
        Assert.All(members, m => Assert.Equal(2, fixture.Inbox.MessagesTo(m.E164).Count)); // registration + reset
    }

    /// <summary>
    /// A node that claimed a queued text and died before recording what became of it (killed mid-send) holds the row
    /// only until its lease ends: until then no other node sends it, after it the other node does, once.
    /// </summary>
    [Fact]
    public async Task ARowClaimedByANodeThatDied_IsSentByTheOtherNode_OnceItsLeaseIsOver()
    {
        var member = await mail.RegisterAsync();
        await using var second = await fixture.StartNodeWithAsync(new Dictionary<string, string?>());
        fixture.Inbox.FailNext(1000, System.Net.HttpStatusCode.ServiceUnavailable);
        try
        {
            await using var scope = fixture.Server.Services.CreateAsyncScope();
            var outbox = scope.ServiceProvider.GetRequiredService<SmsOutbox>();
            var to = new PhoneNumbers().FromE164(member.E164)!;
            await outbox.EnqueueAsync(new QueuedSms(member.Uid, SmsOutbox.ResetPassword, to, "[Pan] Your password reset code is 123456.",
                SmsPurpose.Reset, null, fixture.Server.Clock.GetUtcNow().AddMinutes(30), null), CancellationToken.None);
            outbox.Wake();
            await RefusedOnceAsync(member.Uid, 1);
        }
        finally
        {
            fixture.Inbox.Recover();
        }

        // The dead node's claim: one more attempt taken, leased for five minutes, never finished.
        var leaseEnd = fixture.Server.Clock.GetUtcNow().AddMinutes(5);
        await mail.DbAsync(db => db.Set<SmsOutboxEntry>().Where(e => e.Uid == member.Uid)
            .ExecuteUpdateAsync(u => u.SetProperty(e => e.ClaimedUntil, leaseEnd).SetProperty(e => e.Attempts, 2)));
        var sender = second.Services.GetRequiredService<SmsOutboxSender>();

        // Past the row's retry time (108 s at the latest) but inside the lease: nobody may take it.
        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(2));
        var duringLease = await sender.SendDueAsync(CancellationToken.None);
        var textsDuringLease = fixture.Inbox.MessagesTo(member.E164).Count;

        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(4));
        await sender.SendDueAsync(CancellationToken.None);
        await Eventually.HoldsAsync(async () => (await RowsAsync(member.Uid)).Single().State == OutboxState.Sent);

        Assert.Equal((0, 1), (duringLease, textsDuringLease)); // the registration code only
        Assert.Equal((OutboxState.Sent, 3, (string?)null), (await RowsAsync(member.Uid)).Select(r => (r.State, r.Attempts, r.Payload)).Single());
        Assert.Equal(2, fixture.Inbox.MessagesTo(member.E164).Count); // registration + reset, once
    }

    [Fact]
    public async Task QueuedResetSms_ToAStoredLandline_EndsBlockedUnsent_WithItsTextDropped()
    {
        // Why queued directly: AuthResetVerifyPhone refuses a typed landline, but a row names the member's stored number,
        // which may never have been typed through that check (an import, an admin); the gate must refuse it too.
        var member = await mail.RegisterAsync();
        const string landline = "+886223456785";
        var requests = fixture.Inbox.Requests;
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var outbox = scope.ServiceProvider.GetRequiredService<SmsOutbox>();
            var to = new PhoneNumbers().FromE164(landline)!;
            await outbox.EnqueueAsync(new QueuedSms(member.Uid, SmsOutbox.ResetPassword, to, "[Pan] Your password reset code is 123456.",
                SmsPurpose.Reset, null, fixture.Server.Clock.GetUtcNow().AddMinutes(10), null), CancellationToken.None);
            outbox.Wake();
        }

        await Eventually.HoldsAsync(async () => (await RowsAsync(member.Uid)).SingleOrDefault()?.State == OutboxState.Blocked);
        var row = Assert.Single(await RowsAsync(member.Uid));
        Assert.Equal((nameof(SmsBlockReason.CannotReceiveSms), (string?)null), (row.LastError, row.Payload));
        Assert.Equal(requests, fixture.Inbox.Requests);
        Assert.Empty(fixture.Inbox.MessagesTo(landline));
    }

    [Fact]
    public async Task ResetRequest_ForAStoredLandline_AnswersLikeAnUnmatchedOne_AndTextsNothing()
    {
        var member = await mail.RegisterAsync();
        const string landline = "+886223456786";
        await mail.DbAsync(db => db.Accounts.Where(a => db.Members.Any(m => m.Uid == member.Uid && m.AccountId == a.Id))
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.PhoneE164, landline)));
        var requests = fixture.Inbox.Requests;

        var matched = await AnswerAsync(member.Name, landline);
        var unmatched = await AnswerAsync("someone-else", landline);

        Assert.Equal(StatusCode.InvalidArgument, matched.Status);
        Assert.Equal(matched, unmatched);
        Assert.Equal(requests, fixture.Inbox.Requests);
        Assert.Empty(await RowsAsync(member.Uid));
    }

    [Fact]
    public async Task ResetSms_RetriedAfterProviderFailures_CountsOnceAgainstThePhonesCaps()
    {
        // A node whose per-phone cap leaves room for the registration code, one reset text and one sign-in code.
        await using var capped = await fixture.StartNodeWithAsync(new Dictionary<string, string?> { ["Pan:Sms:Limits:PerPhonePerHour"] = "3" });
        var member = await mail.RegisterAsync();
        await fixture.Inbox.WaitForMessageAsync(member.E164, 1, PhoneFlows.Phones.Wait);
        fixture.Inbox.FailNext(2, System.Net.HttpStatusCode.ServiceUnavailable);
        try
        {
            await Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = member.Name, Phone = member.E164 });
            await Eventually.HoldsAsync(async () => (await RowsAsync(member.Uid)).Single() is { State: OutboxState.Pending, Attempts: 1, ClaimedUntil: null });
            fixture.Server.Clock.Advance(TimeSpan.FromMinutes(2));
            await Eventually.HoldsAsync(async () => (await RowsAsync(member.Uid)).Single() is { State: OutboxState.Pending, Attempts: 2, ClaimedUntil: null });
        }
        finally
        {
            fixture.Inbox.Recover();
        }

        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(2));
        await fixture.Inbox.WaitForMessageAsync(member.E164, 2, PhoneFlows.Phones.Wait);
        await Eventually.HoldsAsync(async () => (await RowsAsync(member.Uid)).Single().State == OutboxState.Sent);

        var login = await new PhoneFlows.Phones(new MemberServiceV2.MemberServiceV2Client(capped.Grpc), fixture.Inbox).StartLoginAsync(member.E164);

        Assert.Equal(LoginRequest.Types.Phase.InputCode, login.NextPhase);
        await fixture.Inbox.WaitForMessageAsync(member.E164, 3, PhoneFlows.Phones.Wait);
        var phone = new PhoneNumbers().FromE164(member.E164)!;
        var hash = SmsKeys.Phone(phone);
        Assert.Equal(3, await mail.DbAsync(db => db.Set<SmsSend>().CountAsync(s => s.PhoneHash == hash)));
    }

    [Fact]
    public async Task ResetRequest_WithASlowProvider_AnswersWithoutWaitingForIt_AndTheTextArrivesAfterwards()
    {
        // A node whose webhook calls may take two minutes; the provider holds the next text for 30 s.
        await using var node = await fixture.StartNodeWithAsync(new Dictionary<string, string?> { ["Pan:Sms:Webhook:TimeoutSeconds"] = "120" });
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var member = await mail.RegisterAsync();
        await fixture.Inbox.WaitForMessageAsync(member.E164, 1, PhoneFlows.Phones.Wait);
        fixture.Inbox.DelayNext(1, TimeSpan.FromSeconds(30));

        // Why a deadline and no timing: the provider holds the text for 30 s, so only a call that does not wait for it ends within 15 s.
        var matched = await AnswerAsync(client, member.Name, member.E164, TimeSpan.FromSeconds(15));
        var unmatched = await AnswerAsync(client, member.Name, PhoneFlows.Phones.NewNumber().E164, TimeSpan.FromSeconds(15));
        Assert.Equal((StatusCode.OK, matched.Body), matched);
        Assert.Equal(matched, unmatched);

        // Why the clock may move: the fixture's own node may have claimed the text and given up at its 10 s time limit
        // (the row is handed back); then its retry is made due. A claim by the slow node is left alone until it ends.
        // Why not Eventually (30 s): the provider alone holds the text that long.
        var giveUp = DateTime.UtcNow.AddSeconds(90);
        while ((await RowsAsync(member.Uid)).Single() is { State: not OutboxState.Sent } row)
        {
            Assert.True(DateTime.UtcNow < giveUp, "the reset text was not sent within 90 s");
            if (row is { State: OutboxState.Pending, Attempts: > 0, ClaimedUntil: null })
            {
                fixture.Server.Clock.Advance(TimeSpan.FromMinutes(2));
            }

            await Task.Delay(50);
        }

        var text = Assert.Single(fixture.Inbox.MessagesTo(member.E164).Skip(1));
        Assert.Matches("[0-9]{6}", text.Text);
    }

    [Fact]
    public async Task ResetRequest_WhoseMemberIsDeletedBeforeItsTextIsQueued_QueuesNothing_AndStartsNoFlow()
    {
        // AuthResetVerifyPhone finds the member, then starts the flow and queues the text in a transaction of its own.
        // A deletion commits in between: its erasers have already run (they found nothing of this reset to give up).
        var member = await mail.RegisterAsync();
        await fixture.Inbox.WaitForMessageAsync(member.E164, 1, PhoneFlows.Phones.Wait);
        var phone = new PhoneNumbers().FromE164(member.E164)!;
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var found = await scope.ServiceProvider.GetRequiredService<RecoveryMembers>().ByPhoneAsync(phone, member.Name, CancellationToken.None);
        Assert.NotNull(found);
        var reservation = await scope.ServiceProvider.GetRequiredService<DeliveryGate>().ReserveAsync(
            DeliveryPurposes.ResetPhone, null, SHA256.HashData(Encoding.UTF8.GetBytes(phone.E164)), null, CancellationToken.None);
        Assert.True(reservation.Allowed);

        await using (var deletion = await UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, member.Uid))
        {
            var queue = Task.Run(() => scope.ServiceProvider.GetRequiredService<PhoneRecovery>().QueueAsync(found, phone, reservation, null, CancellationToken.None));
            var blocked = await deletion.WaitUntilBlockingAsync(queue);
            // On PostgreSQL the reset meets the deletion's row lock and waits for its commit (SQLite shows no waiting statement).
            Assert.True(blocked || fixture.Database.Provider != "postgres");
            await deletion.CommitAsync();
            Assert.False(await queue);
        }

        Assert.Empty(await RowsAsync(member.Uid));
        Assert.False(await mail.DbAsync(db => db.Set<PhaseSession>().AnyAsync(s => s.Uid == member.Uid)));
        // Recorded as a request that matched nobody is.
        Assert.Equal(DeliveryOutcome.Skipped, await mail.DbAsync(db => db.Set<DeliveryAttempt>().Where(a => a.Id == reservation.Id).Select(a => a.Outcome).SingleAsync()));
        Assert.Single(fixture.Inbox.MessagesTo(member.E164)); // the registration code only
    }

    [Fact]
    public async Task ResetSms_QueuedAfterTheMembersDeletionCommitted_IsGivenUpUnsent_WithItsPayloadBlanked()
    {
        // What a reset leaves when its transaction commits after a deletion's erasers looked at the outbox (on PostgreSQL
        // the reset may have checked the member before that deletion committed): a queued text for a deleted member.
        var member = await mail.RegisterAsync();
        await fixture.Inbox.WaitForMessageAsync(member.E164, 1, PhoneFlows.Phones.Wait);
        await mail.DeleteAsync(member);
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var outbox = scope.ServiceProvider.GetRequiredService<SmsOutbox>();
            var to = new PhoneNumbers().FromE164(member.E164)!;
            await outbox.EnqueueAsync(new QueuedSms(member.Uid, SmsOutbox.ResetPassword, to, "[Pan] Your password reset code is 123456.",
                SmsPurpose.Reset, null, fixture.Server.Clock.GetUtcNow().AddMinutes(10), null), CancellationToken.None);
            outbox.Wake();
        }

        await Eventually.HoldsAsync(async () => (await RowsAsync(member.Uid)).Single().State != OutboxState.Pending);
        var row = Assert.Single(await RowsAsync(member.Uid));
        Assert.Equal((OutboxState.Abandoned, OutboxQueue.MemberDeleted, (string?)null), (row.State, row.LastError, row.Payload));
        Assert.NotNull(row.Finished);
        Assert.Single(fixture.Inbox.MessagesTo(member.E164)); // the registration code only
    }

    /// <summary>Fills the phone's minute bucket of the SMS caps far past any per-phone cap, as a burst of earlier sends would.</summary>
    private Task<int> ExhaustPhoneCapsAsync(string e164) => mail.DbAsync(async db =>
    {
        var phone = new PhoneNumbers().FromE164(e164)!;
        var counter = "p:" + Convert.ToHexString(SmsKeys.Phone(phone));
        var minute = SmsGate.Buckets(fixture.Server.Clock.GetUtcNow()).Minute;
        const int span = SmsCount.MinuteSpan;
        return await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO sms_counts (counter, span, bucket, sends) VALUES ({counter}, {span}, {minute}, 1000)
            ON CONFLICT (counter, span, bucket) DO UPDATE SET sends = sms_counts.sends + excluded.sends
            """);
    });

    /// <summary>Waits until the member has <paramref name="rows"/> outbox rows and the newest was tried once, refused and handed back.</summary>
    private Task RefusedOnceAsync(long uid, int rows) => Eventually.HoldsAsync(async () =>
    {
        var all = await RowsAsync(uid);
        return all.Count == rows && all[^1] is { State: OutboxState.Pending, Attempts: 1, ClaimedUntil: null, LastError: not null };
    });

    private Task<List<SmsOutboxEntry>> RowsAsync(long uid) =>
        mail.DbAsync(db => db.Set<SmsOutboxEntry>().AsNoTracking().Where(e => e.Uid == uid).OrderBy(e => e.Id).ToListAsync());

    private Task<List<SmsOutboxEntry>> OutboxOfAsync(List<long> uids) =>
        mail.DbAsync(db => db.Set<SmsOutboxEntry>().AsNoTracking().Where(e => uids.Contains(e.Uid)).ToListAsync());

    private Task<DeliveryOutcome> OutcomeAsync(SmsOutboxEntry row) =>
        mail.DbAsync(db => db.Set<DeliveryAttempt>().Where(a => a.Id == row.DeliveryAttemptId).Select(a => a.Outcome).SingleAsync());

    /// <summary>The status and body of one AuthResetVerifyPhone call, failures included.</summary>
    private Task<(StatusCode Status, string Body)> AnswerAsync(string name, string phone) => AnswerAsync(Client, name, phone, TimeSpan.FromSeconds(60));

    private static async Task<(StatusCode Status, string Body)> AnswerAsync(
        MemberServiceV2.MemberServiceV2Client client, string name, string phone, TimeSpan deadline)
    {
        var call = client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = name, Phone = phone }, deadline: DateTime.UtcNow + deadline);
        try
        {
            var response = await call.ResponseAsync;
            return (call.GetStatus().StatusCode, Convert.ToBase64String(response.ToByteArray()));
        }
        catch (RpcException ex)
        {
            return (ex.StatusCode, ex.Status.Detail);
        }
    }
}

public sealed class PhoneRecoveryOutboxBehaviour_Sqlite(SqliteEmailFixture f) : PhoneRecoveryOutboxBehaviour<SqliteEmailFixture>(f);

public sealed class PhoneRecoveryOutboxBehaviour_Postgres(PostgresEmailFixture f) : PhoneRecoveryOutboxBehaviour<PostgresEmailFixture>(f);
