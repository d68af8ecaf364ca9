using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.Accounts;
using Pan.Data.Guests;
using Pan.Data.Members;
using Pan.General.Member;
using Pan.Server.Members;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using PhoneFlowPhones = Pan.Tests.PhoneFlows.Phones;
using RegPhase = Pan.General.Member.RegisterRequest.Types.Phase;
using V2Phase = Pan.General.Member.ValidatePhoneV2Request.Types.Phase;

namespace Pan.Tests.Guests;

/// <summary>
/// A number's holder proves it by SMS; an apinode mobile name proves nothing (an app without SMS activation never checks
/// it, and a pending activation was only texted to the holder). So a conversion is refused a live phone account's number
/// (10), also when a sign-up of it commits while the conversion runs; a sign-up or a phone binding is never refused for a
/// mobile name. On PostgreSQL the race holds the conversion inside its transaction (a row it waits for) while the sign-up
/// commits; SQLite runs one writer at a time, so there the two run one after the other.
/// </summary>
public abstract partial class GuestBehaviour<TFixture>
{
    [Fact]
    public async Task Register_OfANumberAnotherAccountHoldsAsItsMobileName_MakesThePhoneAccount_AndTheNameStays()
    {
        // A conversion naming its account by someone's number (its SMS activation still pending: the number's holder
        // got a code and ignored it) does not keep the number's holder from signing up.
        var temp = await SmsApp.CreateTempAsync();
        var (national, e164) = PhoneFlowPhones.NewNumber();
        Assert.Equal(0, (await SmsApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = ApinodeClient.ClientHash() }, temp.Token)).Code);
        var grpc = new MemberServiceV2.MemberServiceV2Client(fixture.Server.Grpc);

        var start = await new PhoneFlowPhones(grpc, fixture.Inbox).StartRegisterAsync(national);
        // The first text to the number was the guest's activation code.
        var code = await PhoneFlowPhones.NthCodeAsync(fixture.Inbox, e164, 2);
        await grpc.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code });
        var done = await grpc.RegisterAsync(new RegisterRequest
        {
            Phase = RegPhase.InputName, PhaseSessionToken = start.PhaseSessionToken, PhaseInputNameValue = PhoneFlowPhones.NewName(),
        });

        Assert.Equal(RegPhase.Done, done.NextPhase);
        Assert.Equal(1, await DbAsync(db => db.Accounts.CountAsync(a => a.PhoneE164 == e164 && a.Deleted == null)));
        Assert.True(await DbAsync(db => db.Set<GuestAccount>().AnyAsync(g => g.Uid == temp.Id && g.AccountKey == "m:" + e164)));
        // The number is now a phone account's: a conversion naming another account by it is 10.
        var other = await SmsApp.CreateTempAsync();
        Assert.Equal(10, (await SmsApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = ApinodeClient.ClientHash() }, other.Token)).Code);
    }

    [Fact]
    public async Task ConvertTemp_ThatWaitsWhileASignUpTakesTheNumber_Is10_AndKeepsTheAccountTemporary()
    {
        var temp = await SmsApp.CreateTempAsync();
        var (national, e164) = PhoneFlowPhones.NewNumber();
        var grpc = new MemberServiceV2.MemberServiceV2Client(fixture.Server.Grpc);
        async Task SignUpAsync()
        {
            var start = await new PhoneFlowPhones(grpc, fixture.Inbox).StartRegisterAsync(national);
            var code = await fixture.Inbox.WaitForCodeAsync(e164, PhoneFlowPhones.Wait);
            await grpc.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code });
            var done = await grpc.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputName, PhaseSessionToken = start.PhaseSessionToken, PhaseInputNameValue = PhoneFlowPhones.NewName() });
            Assert.Equal(RegPhase.Done, done.NextPhase);
        }

        Task<ApinodeAnswer> Convert() => Task.Run(() => SmsApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = ApinodeClient.ClientHash() }, temp.Token));

        Task<ApinodeAnswer>? convert = null;
        // PostgreSQL: the conversion checked the name (free) and waits inside its transaction for its member's row.
        await using (var held = fixture.Database.Provider == "postgres"
            ? await DatabaseLock.HoldRowsAsync(fixture.Database, "members", $"uid = {temp.Id}")
            : null)
        {
            if (held is not null)
            {
                convert = Convert();
                Assert.True(await LockWaits.UntilAsync(fixture.Database, 1, convert), "convertTemp did not wait for its member's row");
            }

            await SignUpAsync();
            if (held is not null)
            {
                await held.CommitAsync();
            }
        }

        var answer = await (convert ?? Convert());
        Assert.Equal((10, false), (answer.Code, answer.HasToken));
        Assert.True(await DbAsync(db => db.Set<GuestAccount>().AnyAsync(g => g.Uid == temp.Id && g.Temporary && g.AccountKey == null)));
        Assert.Equal(1, await DbAsync(db => db.Accounts.CountAsync(a => a.PhoneE164 == e164)));
    }

    [Fact]
    public async Task ValidatePhoneV2_OfANumberAnotherAccountHoldsAsItsMobileName_BindsIt()
    {
        var temp = await SmsApp.CreateTempAsync();
        var (national, e164) = PhoneFlowPhones.NewNumber();
        Assert.Equal(0, (await SmsApp.CallAsync("convertTemp", new Dictionary<string, string> { ["accName"] = e164, ["passwd"] = ApinodeClient.ClientHash() }, temp.Token)).Code);
        var access = await PhonelessMemberAsync();
        var grpc = new MemberServiceV2.MemberServiceV2Client(fixture.Server.Grpc);
        var start = await grpc.ValidatePhoneV2Async(new ValidatePhoneV2Request
        {
            AccessToken = access, Phase = V2Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national,
            VerifyToken = await PhoneFlowPhones.ProofForAsync(fixture.Server, access),
        });
        // The first text to the number was the guest's activation code.
        var code = await PhoneFlowPhones.NthCodeAsync(fixture.Inbox, e164, 2);

        await grpc.ValidatePhoneV2Async(new ValidatePhoneV2Request
        {
            AccessToken = access, Phase = V2Phase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code,
        });
        Assert.Equal(1, await DbAsync(db => db.Accounts.CountAsync(a => a.PhoneE164 == e164)));
    }

    /// <summary>An access token of a new member without a phone (as imported).</summary>
    private async Task<string> PhonelessMemberAsync()
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var member = await scope.ServiceProvider.GetRequiredService<MemberCreator>()
            .CreateAsync(new Account(), new Member { DisplayName = PhoneFlowPhones.NewName(), DisplayNameKey = "legacy-" + Guid.NewGuid().ToString("N"), MigrationStatus = 2 }, default);
        var tokens = scope.ServiceProvider.GetRequiredService<TokenService>();
        var auth = await tokens.IssueAuthTokenAsync(member, AuthMethods.Password, default);
        var claims = await tokens.ValidateAuthTokenAsync(auth.Token, default);
        return (await tokens.IssueAccessTokenAsync(claims!, member, "jkforum", default)).Token;
    }
}
