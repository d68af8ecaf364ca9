using System.Text.RegularExpressions;
using Pan.General.Member;
using Pan.Tests.Email;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Foundation;

/// <summary>
/// SECURITY 16 for every feature: each test drives flows through the public APIs on a server logging everything at
/// Trace (<see cref="LogSecrecyFixture"/>), keeps every secret it sees or makes, and finds none of them in any log line
/// (message, structured values, scopes, exceptions). The other half of this suite is LogSecrecyBehaviour.Apps.cs.
/// </summary>
public abstract partial class LogSecrecyBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : LogSecrecyFixture
{
    private readonly Mailboxes mail = new(fixture);

    private readonly List<string?> secrets = [];

    private MemberServiceV2.MemberServiceV2Client Client => mail.Client;

    private PanServer Server => fixture.Server;

    [Fact]
    public async Task Passwords_SecurityAnswers_ResetsAndEmailCodes_NeverReachTheLogs()
    {
        var member = await mail.RegisterWithEmailAsync();
        Keep(member.AuthToken, member.AccessToken);
        var (first, second, third, fourth) = (Mailboxes.StrongPassword(), Mailboxes.StrongPassword(), Mailboxes.StrongPassword(), Mailboxes.StrongPassword());
        const string Answer = "Kaohsiung harbour 1987";
        Keep(first, second, third, fourth, Answer);

        // Another member's address, verified through the link page rather than the code.
        var other = await mail.RegisterAsync();
        Keep(other.AuthToken, other.AccessToken);
        var address = Mailboxes.NewAddress();
        var otherProof = await mail.ProofAsync(other);
        Keep(otherProof);
        await Client.SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = other.AccessToken, Email = address, VerifyToken = otherProof });
        var link = SmtpInbox.LinkOf(await mail.MailAsync(address), "/account/verify-email");
        using (var page = await Server.Http.GetAsync(link.PathAndQuery))
        {
            Assert.True(page.IsSuccessStatusCode, $"verify-email page: {page.StatusCode}");
        }

        var firstProof = await mail.ProofAsync(member);
        Keep(firstProof);
        await Client.SetMemberPasswordAsync(new SetMemberPasswordRequest { AccessToken = member.AccessToken, Password = first, ConfirmPassword = first, ResetCode = firstProof });
        var wrong = "wrong " + first;
        Keep(wrong);
        await Errors.ExpectAsync(
            () => Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.Name, Password = wrong }).ResponseAsync,
            Grpc.Core.StatusCode.PermissionDenied, "VerifyMemberByPasswordResponse.ErrAuthFailed");
        await mail.ClearFailuresAsync(member.Uid);
        var verified = await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.Name, Password = first });
        Keep(verified.VerifyToken);
        await Client.UpdateCredentialAsync(new UpdateCredentialRequest
        {
            PanAuthToken = member.AuthToken, OriginalPassword = first, NewPassword = second, ConfirmNewPassword = second,
        });
        var update = (await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = member.Name, Password = second })).VerifyToken;
        Keep(update);
        await Client.UpdateSecurityQuestionAsync(new UpdateSecurityQuestionRequest
        {
            PanAccessToken = member.AccessToken, UpdateToken = update, SecurityQuestion = new SecurityQuestion { Question = "First ship?", Answer = Answer },
        });

        // Reset by email: the code, then the new password with the security answer.
        await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = member.Name, Email = member.Email! });
        var emailCode = SmtpInbox.CodeOf(await mail.MailAsync(member.Email!, 2));
        var byEmail = await Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = emailCode });
        Keep(byEmail.AuthResetToken);
        await Client.AuthResetUpdateAsync(new AuthResetUpdateRequest
        {
            AuthResetToken = byEmail.AuthResetToken, Password = third, ConfirmPassword = third, SecurityQuestion = new SecurityQuestion { Answer = Answer },
        });

        // Reset by SMS.
        var texts = fixture.Inbox.MessagesTo(member.E164).Count;
        await Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = member.Name, Phone = member.E164 });
        var smsCode = await PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, member.E164, texts + 1);
        var bySms = await Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = smsCode, Phone = member.E164, DisplayName = member.Name });
        Keep(bySms.AuthResetToken);
        await Client.AuthResetUpdateAsync(new AuthResetUpdateRequest
        {
            AuthResetToken = bySms.AuthResetToken, Password = fourth, ConfirmPassword = fourth, SecurityQuestion = new SecurityQuestion { Answer = Answer },
        });

        KeepPhone(member.E164);
        KeepPhone(other.E164);
        KeepMail(member.Email!);
        KeepMail(address);
        AssertNoneLogged();
    }

    [Fact]
    public async Task DataExport_ItsStepUpAndItsContent_NeverReachTheLogs()
    {
        var member = await mail.RegisterWithEmailAsync();
        Keep(member.AuthToken, member.AccessToken);
        const string Street = "No. 88 Lighthouse Alley, Keelung";
        const string FullName = "Export Recipient Lin";
        await Client.SaveAddressBookAsync(new SaveAddressBookRequest { AccessToken = member.AccessToken, AddressBook = new() { FullName = FullName, Address = Street, ZipCode = "20241" } });
        Keep(Street, FullName);

        var texts = fixture.Inbox.MessagesTo(member.E164).Count;
        await Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = member.AccessToken, SessionToken = "export-data" });
        var code = await PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, member.E164, texts + 1);
        var verify = (await Client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest { PanAccessToken = member.AccessToken, SessionToken = "export-data", Code = code })).VerifyToken;
        Keep(verify);
        var export = await Client.ExportMyDataAsync(new ExportMyDataRequest { AccessToken = member.AccessToken, VerifyToken = verify });
        Assert.Contains(Street, export.Json, StringComparison.Ordinal);
        Keep(export.Json, export.Json[..200]);

        KeepPhone(member.E164);
        KeepMail(member.Email!);
        AssertNoneLogged();
    }

    [Fact]
    public async Task SignedInDevices_TheirTokensSessionIdsAndUserAgents_NeverReachTheLogs()
    {
        const string Agent = "PanLogProbe/7.3 (device-4c1e9b)";
        var member = await mail.RegisterAsync();
        using var device = new UserAgentChannel(Server.GrpcUri, Agent);
        var otherAuth = await new PhoneFlows.Phones(device.Client, fixture.Inbox).LoginAsync(member.E164);
        var otherAccess = (await Client.AccessTokenAsync(new AccessTokenRequest { AuthToken = otherAuth, AppId = "jkforum" })).AccessToken;
        var thirdAuth = await new PhoneFlows.Phones(device.Client, fixture.Inbox).LoginAsync(member.E164);
        Keep(member.AuthToken, member.AccessToken, otherAuth, otherAccess, thirdAuth, Agent, "device-4c1e9b");

        var sessions = (await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = member.AccessToken })).Sessions;
        Keep(sessions.Select(s => s.SessionId).ToArray());
        Assert.Equal(2, sessions.Count(s => s.UserAgent == Agent));
        var other = sessions.First(s => s.UserAgent == Agent && s.AppIds.Count == 1);
        await Client.EndSessionAsync(new EndSessionRequest { AccessToken = member.AccessToken, SessionId = other.SessionId });
        await Errors.ExpectAsync(() => Client.EndSessionAsync(new EndSessionRequest { AccessToken = member.AccessToken, SessionId = other.SessionId }).ResponseAsync,
            Grpc.Core.StatusCode.NotFound, "EndSessionResponse.Error.SessionNotFound");
        Assert.Equal(1, (await Client.EndOtherSessionsAsync(new EndOtherSessionsRequest { AccessToken = member.AccessToken })).Ended);
        await Errors.ExpectAsync(() => Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = otherAccess }).ResponseAsync,
            Grpc.Core.StatusCode.Unauthenticated, "ListSessionsResponse.Error.TokenInvalid");

        KeepPhone(member.E164);
        AssertNoneLogged();
    }

    [Fact]
    public async Task Logs_AreCapturedAtTraceFromPanAndTheFrameworks()
    {
        // Why: the other tests prove nothing if the levels did not take; every category they rely on must have spoken.
        var member = await mail.RegisterAsync();
        await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = member.AccessToken });
        var lines = fixture.Logs.Lines.ToList();
        foreach (var category in new[] { "Pan.Server.", "Microsoft.EntityFrameworkCore.Database.Command ", "Microsoft.AspNetCore.Server.Kestrel", "Grpc.AspNetCore.Server" })
        {
            Assert.Contains(lines, l => l.StartsWith(category, StringComparison.Ordinal));
        }
    }

    private void Keep(params string?[] values) => secrets.AddRange(values);

    private void KeepPhone(string e164)
    {
        // The full number in every form a log could hold it: E.164, without the plus, national (0 + the rest).
        Keep(e164, e164.TrimStart('+'));
        if (e164.StartsWith("+886", StringComparison.Ordinal))
        {
            Keep("0" + e164[4..]);
        }

        foreach (var message in fixture.Inbox.MessagesTo(e164))
        {
            Keep(SixDigits().Matches(message.Text).Select(m => m.Value).ToArray());
        }
    }

    private void KeepMail(string address)
    {
        // The address itself (README: logs name the domain only) and every code and link token mailed to it.
        Keep(address);
        foreach (var message in fixture.Smtp.MessagesTo(address))
        {
            var text = message.TextBody ?? string.Empty;
            foreach (Match code in MailCode().Matches(text))
            {
                Keep(code.Value, code.Value.Replace("-", string.Empty, StringComparison.Ordinal));
            }

            foreach (Match token in LinkToken().Matches(text))
            {
                Keep(token.Groups[1].Value, Uri.UnescapeDataString(token.Groups[1].Value));
            }
        }
    }

    private void AssertNoneLogged()
    {
        // Why migration ids are taken out of the lines first: they are names compiled into Pan (the migrator's lines and
        // its inserts into __EFMigrationsHistory hold them), and their timestamps (20261125105123_…) hold six-digit runs
        // that a random code matched by chance (seen in CI: code 112510).
        var lines = fixture.Logs.Lines.Select(l => MigrationId().Replace(l, "<migration>")).ToList();
        Assert.NotEmpty(lines);
        var leaks = secrets.OfType<string>().Where(s => s.Length >= 6).Distinct(StringComparer.Ordinal)
            .SelectMany(s => lines.Where(l => l.Contains(s, StringComparison.OrdinalIgnoreCase)).Take(2).Select(l => $"[{s}] in: {l}"))
            .ToList();
        Assert.True(leaks.Count == 0, $"{leaks.Count} log lines hold a secret:\n" + string.Join("\n", leaks.Take(20)));
    }

    [GeneratedRegex(@"(?<!\d)\d{6}(?!\d)")]
    private static partial Regex SixDigits();

    [GeneratedRegex(@"\b20\d{12}_[A-Za-z][A-Za-z0-9]*")]
    private static partial Regex MigrationId();

    [GeneratedRegex(@"\b[A-Z0-9]{5}-[A-Z0-9]{5}\b")]
    private static partial Regex MailCode();

    [GeneratedRegex(@"[?&/](?:token|activate)[=/]([A-Za-z0-9_\-%@.]+)")]
    private static partial Regex LinkToken();
}

public sealed class LogSecrecyBehaviour_Sqlite(SqliteLogSecrecyFixture f) : LogSecrecyBehaviour<SqliteLogSecrecyFixture>(f);

public sealed class LogSecrecyBehaviour_Postgres(PostgresLogSecrecyFixture f) : LogSecrecyBehaviour<PostgresLogSecrecyFixture>(f);
