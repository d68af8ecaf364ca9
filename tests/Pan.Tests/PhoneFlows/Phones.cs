using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.General.Member;
using Pan.Server.Members;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using RegPhase = Pan.General.Member.RegisterRequest.Types.Phase;
using LoginPhase = Pan.General.Member.LoginRequest.Types.Phase;

namespace Pan.Tests.PhoneFlows;

/// <summary>Drives the phone flows the way an app does, reading codes from the SMS inbox.</summary>
public sealed class Phones(MemberServiceV2.MemberServiceV2Client client, SmsInbox inbox)
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>A fresh Taiwanese mobile number: national form (0900… to 0989…) and E.164 (+886900… to +886989…).</summary>
    /// <remarks>Why not 099: +886 99… is a personal number to libphonenumber, and Pan texts codes only to mobiles.</remarks>
    public static (string National, string E164) NewNumber()
    {
        var rest = Random.Shared.Next(0, 90_000_000).ToString("D8", CultureInfo.InvariantCulture);
        return ("09" + rest, "+8869" + rest);
    }

    public static string NewName() => "m" + Guid.NewGuid().ToString("N")[..12];

    public async Task<RegisterResponse> StartRegisterAsync(string national) =>
        await client.RegisterAsync(new RegisterRequest
        {
            Phase = RegPhase.CheckExistence,
            PhaseCheckExistenceCountryCode = "886",
            PhaseCheckExistenceValue = national,
        });

    /// <summary>Registers a new phone with one member; returns the auth token and the phone.</summary>
    public async Task<(string AuthToken, string E164)> RegisterAsync(string? name = null)
    {
        var (national, e164) = NewNumber();
        var start = await StartRegisterAsync(national);
        var code = await inbox.WaitForCodeAsync(e164, Wait);
        await client.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code });
        var done = await client.RegisterAsync(new RegisterRequest
        {
            Phase = RegPhase.InputName,
            PhaseSessionToken = start.PhaseSessionToken,
            PhaseInputNameValue = name ?? NewName(),
        });
        Assert.Equal(RegPhase.Done, done.NextPhase);
        return (done.PhaseDoneAuthToken, e164);
    }

    public async Task<LoginResponse> StartLoginAsync(string e164) =>
        await client.LoginAsync(new LoginRequest
        {
            Phase = LoginPhase.CheckExistence,
            LoginType = LoginRequest.Types.LoginType.Phone,
            PhaseCheckExistenceValue = e164,
        });

    public async Task<string> LoginAsync(string e164)
    {
        var start = await StartLoginAsync(e164);
        var code = await inbox.WaitForCodeAsync(e164, Wait);
        var done = await client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code });
        return done.PhaseDoneAuthToken;
    }

    /// <summary>A new member under the phone of <paramref name="authToken"/> (NewMember) whose password is <paramref name="password"/>.</summary>
    public async Task<Pan.Atom.Member.Object> NewMemberWithPasswordAsync(string authToken, string password) =>
        (await client.NewMemberAsync(new NewMemberRequest { AuthToken = authToken, DisplayName = NewName(), Password = password, ConfirmPassword = password })).Object;

    /// <summary>
    /// Signs a member in by display name and password (Login with LOGIN_TYPE_EMAIL): an auth token of a sign-in that
    /// proved that member, not its phone.
    /// </summary>
    public async Task<string> PasswordSignInAsync(string displayName, string password)
    {
        var start = await client.LoginAsync(new LoginRequest
        {
            Phase = LoginPhase.CheckExistence,
            LoginType = LoginRequest.Types.LoginType.Email,
            PhaseCheckExistenceValue = displayName,
        });
        var done = await client.LoginAsync(new LoginRequest
        {
            Phase = LoginPhase.InputCode,
            LoginType = LoginRequest.Types.LoginType.Email,
            PhaseSessionToken = start.PhaseSessionToken,
            PhaseInputCodeValue = password,
        });
        Assert.Equal(LoginPhase.Done, done.NextPhase);
        return done.PhaseDoneAuthToken;
    }

    public async Task<string> AccessTokenAsync(string authToken, string? objectId = null) =>
        (await client.AccessTokenAsync(new AccessTokenRequest { AuthToken = authToken, ObjectId = objectId ?? string.Empty, AppId = "jkforum" })).AccessToken;

    /// <summary>
    /// An <c>update-credential</c> verify token by the SMS step-up (SendPhoneVerification, the texted code,
    /// VerifyPhoneCode), the proof a phone member gives before it binds a first password or email.
    /// </summary>
    public async Task<string> UpdateCredentialTokenAsync(string accessToken, string e164)
    {
        var sent = inbox.MessagesTo(e164).Count;
        await client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = accessToken, SessionToken = VerifyPurposes.UpdateCredential });
        var code = await NthCodeAsync(inbox, e164, sent + 1);
        var verified = await client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest { PanAccessToken = accessToken, SessionToken = VerifyPurposes.UpdateCredential, Code = code });
        return verified.VerifyToken;
    }

    /// <summary>The code in the <paramref name="number"/>-th SMS (1-based) sent to <paramref name="e164"/>.</summary>
    public static async Task<string> NthCodeAsync(SmsInbox inbox, string e164, int number)
    {
        var message = await inbox.WaitForMessageAsync(e164, number, Wait);
        return System.Text.RegularExpressions.Regex.Match(message.Text, @"\b\d{6}\b").Value;
    }

    /// <summary>The access token of a member imported without a phone (as legacy stores leave them), for ValidatePhone.</summary>
    public static async Task<string> PhonelessAccessTokenAsync(PanServer server, string name)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var member = await scope.ServiceProvider.GetRequiredService<MemberCreator>()
            .CreateAsync(new Account(), new Member { DisplayName = name, DisplayNameKey = "legacy-" + Guid.NewGuid().ToString("N"), MigrationStatus = 2 }, default);
        var tokens = scope.ServiceProvider.GetRequiredService<TokenService>();
        var auth = await tokens.IssueAuthTokenAsync(member, AuthMethods.Password, default);
        var claims = await tokens.ValidateAuthTokenAsync(auth.Token, default);
        return (await tokens.IssueAccessTokenAsync(claims!, member, "jkforum", default)).Token;
    }

    /// <summary>
    /// An update-credential verify token of the access token's member, issued as its own step-up would (a phoneless
    /// member's password or mailbox): the proof ValidatePhone and ValidateNewMember ask of the member they bind. Empty
    /// for an access token that is not live (there is no member to prove; the call is refused for its token first).
    /// </summary>
    public static async Task<string> ProofForAsync(PanServer server, string accessToken)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var tokens = scope.ServiceProvider.GetRequiredService<TokenService>();
        return await tokens.ValidateAccessTokenAsync(accessToken, default) is { } caller
            ? (await tokens.IssueVerifyTokenAsync(caller.Uid, VerifyPurposes.UpdateCredential, default)).Token
            : string.Empty;
    }

    public static async Task<StatusCode> StatusOf(Func<Task> call)
    {
        try
        {
            await call();
            return StatusCode.OK;
        }
        catch (RpcException ex)
        {
            return ex.StatusCode;
        }
    }
}
