using System.Text.RegularExpressions;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pan.General.Member;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Email;

/// <summary>SMTP delivery against a real SMTP server: retries, giving up as UNAVAILABLE, authentication, and logs without secrets.</summary>
public abstract class EmailDeliveryBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : EmailFixture
{
    private readonly Mailboxes mail = new(fixture);

    [Fact]
    public async Task TemporaryFailures_AreRetried_ThenDelivered()
    {
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        var before = fixture.Smtp.Attempts;
        fixture.Smtp.FailNext(2, 451);
        await mail.SetEmailAsync(member, address);
        await mail.MailAsync(address);
        Assert.Equal(before + 3, fixture.Smtp.Attempts);
        Assert.Equal(1, mail.Count(address));
    }

    [Fact]
    public async Task TemporaryFailuresPastTheRetries_AreUnavailable_AndTheResendWorksLater()
    {
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        var request = new SetMemberEmailRequest { AccessToken = member.AccessToken, Email = address, VerifyToken = await mail.ProofAsync(member) };
        var before = fixture.Smtp.Attempts;
        fixture.Smtp.FailNext(3, 451);
        var error = await Errors.ExpectAsync(() => mail.Client.SetMemberEmailAsync(request).ResponseAsync, StatusCode.Unavailable, "ErrSetMemberEmail.FAILED");
        Assert.Contains("SendEmailVerification", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before + 3, fixture.Smtp.Attempts);
        Assert.Equal(0, mail.Count(address));

        // The address was saved with the verify token's use: repeating the request is refused, a new mail is the way on.
        await Errors.ExpectAsync(() => mail.Client.SetMemberEmailAsync(request).ResponseAsync, StatusCode.PermissionDenied, "ErrSetMemberEmail.FAILED");

        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        await mail.Client.SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken });
        await mail.Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(await mail.MailAsync(address)) });
    }

    [Fact]
    public async Task UpdateCredentialEmail_WhenSmtpGivesUpAfterTheCommit_IsUnavailableErrFailed_KeepsTheChange_AndTheResendWorksLater()
    {
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        var verify = await Foundation.HalfWrittenChecks.VerifyTokenAsync(fixture.Server, member.Uid, Pan.Server.Tokens.VerifyPurposes.UpdateCredential);
        var request = new UpdateCredentialRequest { PanAuthToken = member.AuthToken, VerifyToken = verify, Email = address };
        fixture.Smtp.FailNext(3, 451);

        var error = await Errors.ExpectAsync(() => mail.Client.UpdateCredentialAsync(request).ResponseAsync, StatusCode.Unavailable, "UpdateCredentialResponse.ErrFailed");
        Assert.Contains("SendEmailVerification", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, mail.Count(address));

        // The change was committed (and the token spent): repeating the request is refused, a new mail is the way on.
        await Errors.ExpectAsync(() => mail.Client.UpdateCredentialAsync(request).ResponseAsync, StatusCode.PermissionDenied, "UpdateCredentialResponse.ErrOriginalPasswordInvalid");
        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        await mail.Client.SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken });
        await mail.Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(await mail.MailAsync(address)) });
        Assert.True(await mail.IsVerifiedAsync(member.Uid));
    }

    [Fact]
    public async Task PermanentRefusal_IsNotRetried_AndIsUnavailable()
    {
        var member = await mail.RegisterAsync();
        var proof = await mail.ProofAsync(member);
        var before = fixture.Smtp.Attempts;
        fixture.Smtp.FailNext(1, 550);
        await Errors.ExpectAsync(
            () => mail.Client.SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = member.AccessToken, Email = Mailboxes.NewAddress(), VerifyToken = proof }).ResponseAsync,
            StatusCode.Unavailable, "ErrSetMemberEmail.FAILED");
        Assert.Equal(before + 1, fixture.Smtp.Attempts);
    }

    [Fact]
    public async Task RelayDown_IsUnavailable()
    {
        await using var node = await fixture.StartNodeWithAsync(new Dictionary<string, string?> { ["Pan:Email:Smtp:Port"] = "9", ["Pan:Email:Smtp:Retries"] = "1" });
        var member = await mail.RegisterAsync();
        var proof = await mail.ProofAsync(member);
        await Errors.ExpectAsync(
            () => new MemberServiceV2.MemberServiceV2Client(node.Grpc).SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = member.AccessToken, Email = Mailboxes.NewAddress(), VerifyToken = proof }).ResponseAsync,
            StatusCode.Unavailable, "ErrSetMemberEmail.FAILED");
    }

    [Fact]
    public async Task AuthenticatingRelay_GetsTheConfiguredCredentials()
    {
        await using var relay = await SmtpInbox.StartAsync("pan-relay", "relay-secret");
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await using (var node = await fixture.StartNodeWithAsync(relay.Settings()))
        {
            await mail.SetEmailAsync(member, address, client: new MemberServiceV2.MemberServiceV2Client(node.Grpc));
            Assert.NotNull(await relay.WaitForMessageAsync(address));
        }

        var wrong = relay.Settings(retries: 0);
        wrong["Pan:Email:Smtp:Password"] = "not-it";
        await using var refused = await fixture.StartNodeWithAsync(wrong);
        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        await Errors.ExpectAsync(
            () => new MemberServiceV2.MemberServiceV2Client(refused.Grpc).SendEmailVerificationAsync(new SendEmailVerificationRequest { PanAccessToken = member.AccessToken }).ResponseAsync,
            StatusCode.Unavailable, "UNAVAILABLE");
    }

    [Fact]
    public async Task Logs_NeverHoldACodeALinkTokenOrTheAddress()
    {
        var logs = new LogCapture();
        var settings = fixture.SettingsWith(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Trace", ["Logging:LogLevel:Microsoft"] = "Warning" });
        await using var node = await PanServer.StartAsync(fixture.Database, settings, fixture.Server.Clock, b => b.Logging.AddProvider(logs));
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var member = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        fixture.Smtp.FailNext(1, 451);
        await mail.SetEmailAsync(member, address, client: client);
        var message = await mail.MailAsync(address);
        var code = SmtpInbox.CodeOf(message);
        var token = Regex.Match(SmtpInbox.LinkOf(message, "/account/verify-email").Query, "token=([^&]+)").Groups[1].Value;
        await client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = code });

        var lines = logs.Lines.ToList();
        Assert.Contains(lines, l => l.Contains("SMTP attempt 1 failed", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Sent a VerifyEmail email to a Example.com address", StringComparison.Ordinal));
        foreach (var secret in new[] { code, code.Replace("-", "", StringComparison.Ordinal), token, address, address.ToLowerInvariant() })
        {
            Assert.DoesNotContain(lines, l => l.Contains(secret, StringComparison.OrdinalIgnoreCase));
        }
    }
}

public sealed class EmailDeliveryBehaviour_Sqlite(SqliteEmailFixture f) : EmailDeliveryBehaviour<SqliteEmailFixture>(f);

public sealed class EmailDeliveryBehaviour_Postgres(PostgresEmailFixture f) : EmailDeliveryBehaviour<PostgresEmailFixture>(f);
