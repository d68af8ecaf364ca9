using System.Globalization;
using Pan.Bench.Load;
using Pan.Bench.Seeding;
using Pan.General.Member;
using LoginPhase = Pan.General.Member.LoginRequest.Types.Phase;
using RegisterPhase = Pan.General.Member.RegisterRequest.Types.Phase;

namespace Pan.Bench.Scenarios;

/// <summary>
/// The phone flows as an app drives them: each phase is one timed RPC, and the code comes from the bench's own SMS
/// webhook listener (the server sends it before it answers check-existence).
/// </summary>
public static class PhoneFlows
{
    /// <summary>The app the bench signs in to (any name of pan.general.application.AppId.Value).</summary>
    public const string AppId = "jkforum";

    private static readonly TimeSpan CodeWait = TimeSpan.FromSeconds(10);

    /// <summary>Signs in seeded member <paramref name="index"/> by phone (2 RPCs); returns the auth token.</summary>
    public static async Task<string> LoginAsync(RunContext run, Worker worker, long index)
    {
        var client = run.Members(worker.Index);
        var e164 = SeedRows.E164Phone(index);
        run.Sms.Forget(e164);
        var start = await worker.CallAsync(() => client.LoginAsync(new LoginRequest
        {
            Phase = LoginPhase.CheckExistence,
            LoginType = LoginRequest.Types.LoginType.Phone,
            PhaseCheckExistenceCountryCode = "886",
            PhaseCheckExistenceValue = SeedRows.NationalPhone(index),
        }));
        var code = await run.Sms.TakeCodeAsync(e164, CodeWait);
        var done = await worker.CallAsync(() => client.LoginAsync(new LoginRequest
        {
            Phase = LoginPhase.InputCode,
            LoginType = LoginRequest.Types.LoginType.Phone,
            PhaseSessionToken = start.PhaseSessionToken,
            PhaseInputCodeValue = code,
        }));
        return Require(done.PhaseDoneAuthToken, "Login INPUT_CODE returned no auth token");
    }

    /// <summary>Registers a new phone with one member (3 RPCs); returns the auth token.</summary>
    public static async Task<string> RegisterAsync(RunContext run, Worker worker, long serial)
    {
        var client = run.Members(worker.Index);
        // Why: 095… numbers are never seeded (seeded phones are 091…), so each serial is a phone without an account.
        var digits = serial.ToString("D7", CultureInfo.InvariantCulture);
        var e164 = "+88695" + digits;
        run.Sms.Forget(e164);
        var start = await worker.CallAsync(() => client.RegisterAsync(new RegisterRequest
        {
            Phase = RegisterPhase.CheckExistence,
            PhaseCheckExistenceCountryCode = "886",
            PhaseCheckExistenceValue = "095" + digits,
        }));
        var code = await run.Sms.TakeCodeAsync(e164, CodeWait);
        await worker.CallAsync(() => client.RegisterAsync(new RegisterRequest
        {
            Phase = RegisterPhase.InputCode,
            PhaseSessionToken = start.PhaseSessionToken,
            PhaseInputCodeValue = code,
        }));
        var done = await worker.CallAsync(() => client.RegisterAsync(new RegisterRequest
        {
            Phase = RegisterPhase.InputName,
            PhaseSessionToken = start.PhaseSessionToken,
            PhaseInputNameValue = "rg" + serial.ToString(CultureInfo.InvariantCulture),
        }));
        return Require(done.PhaseDoneAuthToken, "Register INPUT_NAME returned no auth token");
    }

    /// <summary>An access token for the auth token's default member and <see cref="AppId"/>.</summary>
    public static async Task<string> AccessTokenAsync(RunContext run, Worker worker, string authToken)
    {
        var client = run.Members(worker.Index);
        var reply = await worker.CallAsync(() => client.AccessTokenAsync(new AccessTokenRequest { AuthToken = authToken, AppId = AppId }));
        return Require(reply.AccessToken, "AccessToken returned no token");
    }

    /// <summary>
    /// An update-credential verify token for seeded member <paramref name="index"/> by the SMS step-up (2 RPCs), the
    /// proof SetMemberPassword asks for.
    /// </summary>
    public static async Task<string> UpdateCredentialTokenAsync(RunContext run, Worker worker, long index, string accessToken)
    {
        var client = run.Members(worker.Index);
        var e164 = SeedRows.E164Phone(index);
        run.Sms.Forget(e164);
        await worker.CallAsync(() => client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = accessToken, SessionToken = "update-credential" }));
        var code = await run.Sms.TakeCodeAsync(e164, CodeWait);
        var verified = await worker.CallAsync(() => client.VerifyPhoneCodeAsync(new VerifyPhoneCodeRequest
        {
            PanAccessToken = accessToken,
            SessionToken = "update-credential",
            Code = code,
        }));
        return Require(verified.VerifyToken, "VerifyPhoneCode returned no verify token");
    }

    private static string Require(string value, string what) =>
        string.IsNullOrEmpty(value) ? throw new InvalidOperationException(what) : value;
}
