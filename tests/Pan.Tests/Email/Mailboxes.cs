using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Pan.Data;
using Pan.General.Member;
using Pan.General.Member.Dangerous;
using Pan.Server.Credentials;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.PhoneFlows;

namespace Pan.Tests.Email;

/// <summary>A registered member, as the tests know it.</summary>
public sealed record TestMember(long Uid, string Name, string E164, string AuthToken, string AccessToken, string? Email);

/// <summary>Drives the email flows the way an app and a mail reader do, reading mail from the SMTP inbox.</summary>
public sealed class Mailboxes(EmailFixture fixture)
{
    public MemberServiceV2.MemberServiceV2Client Client { get; } = new(fixture.Server.Grpc);

    public PhoneFlows.Phones Phones => new(Client, fixture.Inbox);

    public SmtpInbox Smtp => fixture.Smtp;

    /// <summary>A fresh address; mixed case so case-insensitivity is always exercised.</summary>
    public static string NewAddress() => $"User.{Guid.NewGuid():N}@Example.com";

    /// <summary>Registers a phone with one member (no email).</summary>
    public async Task<TestMember> RegisterAsync(string? name = null)
    {
        name ??= PhoneFlows.Phones.NewName();
        var (auth, e164) = await Phones.RegisterAsync(name);
        var access = await Phones.AccessTokenAsync(auth);
        var info = await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access });
        return new TestMember(info.Info.Uid, name, e164, auth, access, null);
    }

    /// <summary>An <c>update-credential</c> verify token from the member's SMS step-up (what SetMemberEmail asks for).</summary>
    public Task<string> ProofAsync(TestMember member) => Phones.UpdateCredentialTokenAsync(member.AccessToken, member.E164);

    /// <summary>SetMemberEmail as an app calls it: with a verify token from the member's SMS step-up.</summary>
    public async Task SetEmailAsync(TestMember member, string address, string redirect = "", MemberServiceV2.MemberServiceV2Client? client = null)
    {
        var proof = await ProofAsync(member);
        await (client ?? Client).SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = member.AccessToken, Email = address, Redirect = redirect, VerifyToken = proof });
    }

    /// <summary>
    /// Registers a member and gives it a verified email (through SetMemberEmail, the mail and VerifyEmailCode). Why its
    /// verify token is issued directly, as the SMS step-up would: the member's texts stay the ones a test makes.
    /// </summary>
    public async Task<TestMember> RegisterWithEmailAsync(string? name = null)
    {
        var member = await RegisterAsync(name);
        var address = NewAddress();
        var proof = await IssueVerifyTokenAsync(member.Uid, VerifyPurposes.UpdateCredential);
        await Client.SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = member.AccessToken, Email = address, VerifyToken = proof });
        var mail = await Smtp.WaitForMessageAsync(address);
        await Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(mail) });
        return member with { Email = address };
    }

    /// <summary>
    /// A member of an account without a phone (imported from a legacy store, or made by a social login), signed in by
    /// <paramref name="authMethod"/>: its email as given (verified or not) and, when given, a password.
    /// </summary>
    public async Task<TestMember> PhonelessAsync(string? email, bool verified, string? password, string authMethod = AuthMethods.Password)
    {
        var name = PhoneFlows.Phones.NewName();
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var member = await scope.ServiceProvider.GetRequiredService<Pan.Server.Members.MemberCreator>().CreateAsync(
            new Pan.Data.Accounts.Account(),
            new Pan.Data.Members.Member
            {
                DisplayName = name, DisplayNameKey = Pan.Server.DisplayNames.DisplayNameRules.Key(name), IsOwner = true, MigrationStatus = 2,
                Email = email, EmailKey = email?.ToLowerInvariant(), EmailVerified = verified && email is not null,
            },
            default);
        if (password is not null)
        {
            // Setting a password ends every session (a new token generation): sign in after it, with the member read again.
            await scope.ServiceProvider.GetRequiredService<CredentialStore>().SetPasswordAsync(member.Uid, password, null, default);
            member = await scope.ServiceProvider.GetRequiredService<PanDbContext>().Members.AsNoTracking().SingleAsync(m => m.Uid == member.Uid);
        }

        var tokens = scope.ServiceProvider.GetRequiredService<TokenService>();
        var auth = await tokens.IssueAuthTokenAsync(member, authMethod, default);
        var claims = await tokens.ValidateAuthTokenAsync(auth.Token, default);
        var access = await tokens.IssueAccessTokenAsync(claims!, member, "jkforum", default);
        return new TestMember(member.Uid, name, string.Empty, auth.Token, access.Token, email);
    }

    /// <summary>Whether <paramref name="token"/> is a live update-credential verify token of the member.</summary>
    public async Task<bool> ProofIsLiveAsync(string token, long uid)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<TokenService>().VerifyTokenIsLiveAsync(token, uid, VerifyPurposes.UpdateCredential, default);
    }

    /// <summary>A verify token for <paramref name="purpose"/> issued directly, as a step-up would.</summary>
    public async Task<string> IssueVerifyTokenAsync(long uid, string purpose)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<TokenService>().IssueVerifyTokenAsync(uid, purpose, default)).Token;
    }

    /// <summary>Deletes the member through DeleteMember, with a del_token issued as its SMS step-up would.</summary>
    public async Task DeleteAsync(TestMember member)
    {
        string delToken;
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            delToken = (await scope.ServiceProvider.GetRequiredService<TokenService>().IssueVerifyTokenAsync(member.Uid, VerifyPurposes.Delete, default)).Token;
        }

        await new Command.CommandClient(fixture.Server.Grpc).DeleteMemberAsync(
            new CmdDeleteMemberRequest { AppId = "jkforum", PanAccessToken = member.AccessToken, DelToken = delToken });
    }

    /// <summary>The number of messages to <paramref name="address"/> so far.</summary>
    public int Count(string address) => Smtp.MessagesTo(address).Count;

    public Task<MimeMessage> MailAsync(string address, int number = 1) => Smtp.WaitForMessageAsync(address, number);

    /// <summary>Runs <paramref name="work"/> on the server's database.</summary>
    public async Task<T> DbAsync<T>(Func<PanDbContext, Task<T>> work)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<PanDbContext>());
    }

    public Task<bool> IsVerifiedAsync(long uid) => DbAsync(db => db.Members.Where(m => m.Uid == uid).Select(m => m.EmailVerified).FirstAsync());

    /// <summary>Sets a password (and optionally a security question) through the credential seam (needs the real one).</summary>
    public async Task SetCredentialsAsync(long uid, string password, string? question = null, string? answer = null)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<CredentialStore>();
        await store.SetPasswordAsync(uid, password, null, CancellationToken.None);
        if (question is not null)
        {
            await store.SetSecurityQuestionAsync(uid, question, answer!, CancellationToken.None);
        }
    }

    /// <summary>Clears the member's failure counter (the real one may delay the next try after failures).</summary>
    public async Task ClearFailuresAsync(long uid)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<Pan.Server.BruteForce.FailureCounter>().ResetAsync(uid, CancellationToken.None);
    }

    /// <summary>The member's consecutive failures on record (0 without a streak).</summary>
    public async Task<int> FailuresAsync(long uid)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Pan.Server.BruteForce.FailureCounter>().FailuresAsync(uid, CancellationToken.None);
    }

    /// <summary>A password the password rules accept (long, random, unrelated to the member).</summary>
    public static string StrongPassword() => "Vq7!" + Guid.NewGuid().ToString("N")[..16] + "-zebra";
}
