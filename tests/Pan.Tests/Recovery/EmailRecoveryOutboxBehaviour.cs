using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.Email;
using Pan.Data.Outbox;
using Pan.General.Member;
using Pan.Server.Email;
using Pan.Server.Outbox;
using Pan.Server.Recovery;
using Pan.Tests.Deletion;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Recovery;

/// <summary>
/// AuthResetVerifyEmail answers without talking to SMTP (the mail leaves through the outbox), so neither an outage nor
/// a slow relay tells a matched request from an unmatched one (SECURITY 15).
/// </summary>
public abstract class EmailRecoveryOutboxBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : EmailFixture
{
    private readonly Mailboxes mail = new(fixture);

    private MemberServiceV2.MemberServiceV2Client Client => mail.Client;

    [Fact]
    public async Task ResetRequest_DuringAnSmtpOutage_AnswersLikeAnUnmatchedOne_AndTheMailLeavesWhenSmtpIsBack()
    {
        var member = await mail.RegisterWithEmailAsync();
        fixture.Smtp.FailNext(1000, 451);
        try
        {
            var matched = await AnswerAsync(Client, member.Name, member.Email!);
            var unmatched = await AnswerAsync(Client, "someone-else", Mailboxes.NewAddress());
            Assert.Equal(unmatched, matched);

            // Why wait for the row, not for a number of SMTP attempts: the outage may end only once the outbox has
            // given up this send; the row says so (released, with the error), whatever else the relay is answering.
            await RefusedOnceAsync(member.Uid, 1);
        }
        finally
        {
            fixture.Smtp.FailNext(0);
        }

        // One outbox attempt: the transport's first try and its two retries, all refused; the retry waits for the clock.
        Assert.Equal(3, fixture.Smtp.RefusedTo(member.Email!));
        Assert.Equal(1, mail.Count(member.Email!));
        var waiting = Assert.Single(await RowsAsync(member.Uid));
        Assert.Equal((OutboxState.Pending, 1), (waiting.State, waiting.Attempts));
        Assert.Contains("451", waiting.LastError, StringComparison.Ordinal);
        Assert.NotNull(waiting.Payload);

        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(2));
        var message = await mail.MailAsync(member.Email!, 2);
        var reset = await Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(message) });
        Assert.Equal(43, reset.AuthResetToken.Length);
    }

    [Fact]
    public async Task SentMail_LeavesNoSecretInTheOutbox_AndTheRequestCountsAsSent()
    {
        var member = await mail.RegisterWithEmailAsync();
        await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = member.Email! });
        await mail.MailAsync(member.Email!, 2);

        await Eventually.HoldsAsync(async () => (await RowsAsync(member.Uid)).All(r => r.State == OutboxState.Sent));
        var row = Assert.Single(await RowsAsync(member.Uid));
        Assert.Null(row.Payload);
        Assert.NotNull(row.Finished);
        Assert.Equal(DeliveryOutcome.Sent, await mail.DbAsync(db => db.Set<DeliveryAttempt>().Where(a => a.Id == row.DeliveryAttemptId).Select(a => a.Outcome).SingleAsync()));
    }

    [Fact]
    public async Task NewerResetRequest_ReplacesAQueuedOne_WhoseSecretsAreDropped()
    {
        var member = await mail.RegisterWithEmailAsync();
        fixture.Smtp.FailNext(1000, 451);
        try
        {
            await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = member.Email! });
            await RefusedOnceAsync(member.Uid, 1);
            // Why 61 s: past the reset cool-down of the address, and short of the first row's retry (72 s at the
            // earliest, EmailFixture), so the newer request meets that row queued, not being resent.
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
            await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = member.Email! });
            await RefusedOnceAsync(member.Uid, 2);
        }
        finally
        {
            fixture.Smtp.FailNext(0);
        }

        var rows = await RowsAsync(member.Uid);
        Assert.Equal(2, rows.Count);
        Assert.Equal((OutboxState.Abandoned, 1), (rows[0].State, rows[0].Attempts));
        Assert.Null(rows[0].Payload);
        Assert.Equal(MailOutbox.Replaced, rows[0].LastError);
        Assert.Equal(6, fixture.Smtp.RefusedTo(member.Email!));

        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(2));
        await Eventually.HoldsAsync(async () => (await RowsAsync(member.Uid))[1].State == OutboxState.Sent);
        // Exact, not a moment's count: the replaced row has no payload left to send, and the newer one is recorded
        // sent only after the relay accepted (and the inbox stored) its mail — the verification mail and this one.
        Assert.Equal(2, mail.Count(member.Email!));
        var reset = await Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(mail.Smtp.MessagesTo(member.Email!)[1]) });
        Assert.Equal(43, reset.AuthResetToken.Length);
    }

    [Fact]
    public async Task TwoNodes_SendEachQueuedMailExactlyOnce()
    {
        var members = new List<TestMember>();
        for (var i = 0; i < 6; i++)
        {
            members.Add(await mail.RegisterWithEmailAsync());
        }

        await using var second = await fixture.StartNodeWithAsync(new Dictionary<string, string?>());
        var clients = new[] { Client, new MemberServiceV2.MemberServiceV2Client(second.Grpc) };
        var uids = members.Select(m => m.Uid).ToList();
        fixture.Smtp.FailNext(1000, 451);
        try
        {
            // Queued on both nodes while the relay refuses: every row is tried once and waits for its retry.
            for (var i = 0; i < members.Count; i++)
            {
                await clients[i % 2].AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = members[i].Name, Email = members[i].Email! });
            }

            await Eventually.HoldsAsync(async () =>
            {
                var rows = await mail.DbAsync(db => db.Set<MailOutboxEntry>().AsNoTracking().Where(e => uids.Contains(e.Uid)).ToListAsync());
                return rows.Count == members.Count && rows.All(r => r is { State: OutboxState.Pending, Attempts: 1, ClaimedUntil: null, LastError: not null });
            });
        }
        finally
        {
            fixture.Smtp.FailNext(0);
        }

        // Every row falls due at once; both nodes' senders (and their background workers) race for them.
        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(2));
        await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() =>
            (i % 2 == 0 ? fixture.Server : second).Services.GetRequiredService<MailOutboxSender>().SendDueAsync(CancellationToken.None))));

        // Exact once every row is recorded sent: each claim adds one attempt (one refused, one sent), and a sender
        // records "sent" only after the relay accepted (and the inbox stored) the mail.
        await Eventually.HoldsAsync(async () =>
            (await mail.DbAsync(db => db.Set<MailOutboxEntry>().AsNoTracking().Where(e => uids.Contains(e.Uid)).ToListAsync())).All(r => r.State == OutboxState.Sent));
        var sent = await mail.DbAsync(db => db.Set<MailOutboxEntry>().AsNoTracking().Where(e => uids.Contains(e.Uid)).ToListAsync());
        Assert.All(sent, r => Assert.Equal((OutboxState.Sent, (string?)null, 2), (r.State, r.Payload, r.Attempts)));
        Assert.All(members, m => Assert.Equal(2, mail.Count(m.Email!)));
    }

    [Fact]
    public async Task ResetRequest_WhoseMemberIsDeletedBeforeItsMailIsQueued_QueuesNothing_AndLeavesNoCode()
    {
        // AuthResetVerifyEmail finds the member, then writes the code and queues the mail in a transaction of its own.
        // A deletion commits in between: its erasers have already run (they found nothing of this reset to give up).
        var member = await mail.RegisterWithEmailAsync();
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var found = await scope.ServiceProvider.GetRequiredService<RecoveryMembers>().ByEmailAsync(member.Email!, member.Name, CancellationToken.None);
        Assert.NotNull(found);
        var reservation = await scope.ServiceProvider.GetRequiredService<DeliveryGate>().ReserveAsync(
            DeliveryPurposes.Reset, null, EmailAddresses.Hash(EmailAddresses.Normalize(member.Email!)!), null, CancellationToken.None);
        Assert.True(reservation.Allowed);

        await using (var deletion = await UncommittedDeletion.StartAsync(fixture.Server, fixture.Database, member.Uid))
        {
            var queue = Task.Run(() => scope.ServiceProvider.GetRequiredService<EmailRecovery>().QueueAsync(found, reservation, null, null, CancellationToken.None));
            var blocked = await deletion.WaitUntilBlockingAsync(queue);
            // On PostgreSQL the reset meets the deletion's row lock and waits for its commit (SQLite shows no waiting statement).
            Assert.True(blocked || fixture.Database.Provider != "postgres");
            await deletion.CommitAsync();
            Assert.False(await queue);
        }

        Assert.Empty(await RowsAsync(member.Uid));
        Assert.False(await mail.DbAsync(db => db.Set<EmailCode>().AnyAsync(c => c.Uid == member.Uid)));
        // Recorded as a request that matched nobody is.
        Assert.Equal(DeliveryOutcome.Skipped, await mail.DbAsync(db => db.Set<DeliveryAttempt>().Where(a => a.Id == reservation.Id).Select(a => a.Outcome).SingleAsync()));
        Assert.Equal(1, mail.Count(member.Email!)); // the verification mail only
    }

    [Fact]
    public async Task ResetMail_QueuedAfterTheMembersDeletionCommitted_IsGivenUpUnsent_WithItsPayloadBlanked()
    {
        // What a reset leaves when its transaction commits after a deletion's erasers looked at the outbox (on PostgreSQL
        // the reset may have checked the member before that deletion committed): a queued mail for a deleted member.
        var member = await mail.RegisterWithEmailAsync();
        await mail.DeleteAsync(member);
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var outbox = scope.ServiceProvider.GetRequiredService<MailOutbox>();
            var model = new EmailModel(member.Name, "ABCDE-FGHJK", new Uri("https://pan.example/account/reset-password?token=dead"), null, 10);
            await outbox.EnqueueAsync(
                new QueuedMail(member.Uid, EmailKind.ResetPassword, member.Email!, member.Name, "en", model, fixture.Server.Clock.GetUtcNow().AddMinutes(10), null),
                CancellationToken.None);
            outbox.Wake();
        }

        await Eventually.HoldsAsync(async () => (await RowsAsync(member.Uid)).Single().State != OutboxState.Pending);
        var row = Assert.Single(await RowsAsync(member.Uid));
        Assert.Equal((OutboxState.Abandoned, OutboxQueue.MemberDeleted, (string?)null), (row.State, row.LastError, row.Payload));
        Assert.NotNull(row.Finished);
        Assert.Equal(1, mail.Count(member.Email!)); // the verification mail only
    }

    /// <summary>
    /// Waits until the member has <paramref name="rows"/> outbox rows and the newest was tried once, refused and handed
    /// back for a later retry (released, with the error) — the outbox is done with it until the clock moves.
    /// </summary>
    private Task RefusedOnceAsync(long uid, int rows) => Eventually.HoldsAsync(async () =>
    {
        var all = await RowsAsync(uid);
        return all.Count == rows && all[^1] is { State: OutboxState.Pending, Attempts: 1, ClaimedUntil: null, LastError: not null };
    });

    private Task<List<MailOutboxEntry>> RowsAsync(long uid) =>
        mail.DbAsync(db => db.Set<MailOutboxEntry>().AsNoTracking().Where(e => e.Uid == uid).OrderBy(e => e.Id).ToListAsync());

    [Fact]
    public async Task ResetRequest_WithARelayThatStalls_AnswersWithoutWaitingForIt()
    {
        // A relay that accepts connections and never says a word (no SMTP greeting).
        using var stalled = new TcpListener(IPAddress.Loopback, 0);
        stalled.Start();
        var port = ((IPEndPoint)stalled.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var node = await fixture.StartNodeWithAsync(new Dictionary<string, string?>
        {
            ["Pan:Email:Smtp:Port"] = port,
            ["Pan:Email:Smtp:TimeoutSeconds"] = "120",
            ["Pan:Email:Smtp:Retries"] = "0",
        });
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var member = await mail.RegisterWithEmailAsync();

        // Why a generous deadline and no timing: the relay stalls for two minutes, so only a call that does not wait for it ends within 20 s.
        var matched = await AnswerAsync(client, member.Name, member.Email!, TimeSpan.FromSeconds(20));
        var unmatched = await AnswerAsync(client, member.Name, Mailboxes.NewAddress(), TimeSpan.FromSeconds(20));
        Assert.Equal(unmatched, matched);
    }

    /// <summary>The status and body of one AuthResetVerifyEmail call, failures included.</summary>
    private static async Task<(StatusCode Status, string Body)> AnswerAsync(
        MemberServiceV2.MemberServiceV2Client client, string name, string email, TimeSpan? deadline = null)
    {
        var call = client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = name, Email = email },
            deadline: DateTime.UtcNow + (deadline ?? TimeSpan.FromSeconds(60)));
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

public sealed class EmailRecoveryOutboxBehaviour_Sqlite(SqliteEmailFixture f) : EmailRecoveryOutboxBehaviour<SqliteEmailFixture>(f);

public sealed class EmailRecoveryOutboxBehaviour_Postgres(PostgresEmailFixture f) : EmailRecoveryOutboxBehaviour<PostgresEmailFixture>(f);
