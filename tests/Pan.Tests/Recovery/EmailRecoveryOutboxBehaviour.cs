using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Core;
using Pan.General.Member;
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
        var before = fixture.Smtp.Attempts;
        fixture.Smtp.FailNext(1000, 451);
        try
        {
            var matched = await AnswerAsync(Client, member.Name, member.Email!);
            var unmatched = await AnswerAsync(Client, "someone-else", Mailboxes.NewAddress());
            Assert.Equal(unmatched, matched);

            // The outbox tried (three refused DATA commands: one attempt with the transport's two retries) and keeps the mail.
            await Eventually.HoldsAsync(() => fixture.Smtp.Attempts >= before + 3);
        }
        finally
        {
            fixture.Smtp.FailNext(0);
        }

        Assert.Equal(1, mail.Count(member.Email!));
        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(2));
        var message = await mail.MailAsync(member.Email!, 2);
        var reset = await Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(message) });
        Assert.Equal(43, reset.AuthResetToken.Length);
    }

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
