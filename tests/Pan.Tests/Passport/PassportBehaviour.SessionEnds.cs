using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.General.Member;
using Pan.Server.DisplayNames;
using Pan.Server.Members;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using PhoneSteps = Pan.Tests.PhoneFlows.Phones;
using V1Phase = Pan.General.Member.ValidatePhoneRequest.Types.Phase;
using V2Phase = Pan.General.Member.ValidatePhoneV2Request.Types.Phase;

namespace Pan.Tests.Passport;

/// <summary>
/// SECURITY 12 for the passes: every call that ends a member's sessions for the server's own reasons (moving the member
/// under a phone, binding a phone) ends the member's passes in the same transaction.
/// </summary>
public abstract partial class PassportBehaviour<TFixture>
{
    [Fact]
    public async Task ValidateNewMember_EndsTheJoiningMembersPasses()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var joining = await PhonelessMemberAsync();
        var access = await TestMembers.AccessTokenAsync(Server, joining);
        var passes = await PassesAsync(access);

        await Client.ValidateNewMemberAsync(new ValidateNewMemberRequest
        {
            CurrentPhoneAuthToken = await TestMembers.AuthTokenAsync(Server, owner),
            NewMemberAccessToken = access,
            VerifyToken = await PhoneSteps.ProofForAsync(Server, access),
        });

        await ExpectDeadAsync(passes);
        var moved = await TestMembers.WithDbAsync(Server, db => Task.FromResult(db.Members.Single(m => m.Uid == joining.Uid)));
        await ExpectLiveAsync(await PassesAsync(await TestMembers.AccessTokenAsync(Server, moved)));
    }

    [Fact]
    public async Task ValidatePhone_BindingANewPhone_EndsTheMembersPasses()
    {
        var phones = new PhoneSteps(Client, fixture.Inbox);
        var access = await PhoneSteps.PhonelessAccessTokenAsync(Server, PhoneSteps.NewName());
        var passes = await PassesAsync(access);
        var (national, e164) = PhoneSteps.NewNumber();
        var start = await Client.ValidatePhoneV2Async(new ValidatePhoneV2Request
        {
            AccessToken = access, Phase = V2Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national,
            VerifyToken = await PhoneSteps.ProofForAsync(Server, access),
        });
        var code = await fixture.Inbox.WaitForCodeAsync(e164, PhoneSteps.Wait);

        var done = await Client.ValidatePhoneV2Async(new ValidatePhoneV2Request
        {
            AccessToken = access, Phase = V2Phase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code,
        });

        Assert.Equal(V2Phase.Done, done.NextPhase);
        await ExpectDeadAsync(passes);
        await ExpectLiveAsync(await PassesAsync(await phones.AccessTokenAsync(done.NewAuthToken)));
    }

    [Fact]
    public async Task ValidatePhone_JoiningAnExistingPhone_EndsTheMembersPasses()
    {
        var phones = new PhoneSteps(Client, fixture.Inbox);
        var (_, e164) = await phones.RegisterAsync();
        var access = await PhoneSteps.PhonelessAccessTokenAsync(Server, PhoneSteps.NewName());
        var passes = await PassesAsync(access);
        var start = await Client.ValidatePhoneAsync(new ValidatePhoneRequest
        {
            AccessToken = access, Phase = V1Phase.CheckExistence, PhaseCheckExistenceValue = e164, VerifyToken = await PhoneSteps.ProofForAsync(Server, access),
        });
        var code = await PhoneSteps.NthCodeAsync(fixture.Inbox, e164, 2);

        var done = await Client.ValidatePhoneAsync(new ValidatePhoneRequest
        {
            AccessToken = access, Phase = V1Phase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code,
        });

        Assert.Equal(V1Phase.Done, done.NextPhase);
        await ExpectDeadAsync(passes);
        await ExpectLiveAsync(await PassesAsync(await phones.AccessTokenAsync(done.NewAuthToken, passes.Qr.Uuid)));
    }

    [Fact]
    public async Task APassFetchedJustBeforeItsAccessTokenExpires_EndsWithIt()
    {
        // A pass never outlives the access token that fetched it, nor so its auth session, also when that token simply
        // expires (nothing revoked): the last 30 s of the token give a card and a QR code that live 30 s.
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var lifetime = Server.Services.GetRequiredService<IOptions<TokenOptions>>().Value.AccessTokenLifetime;
        Server.Clock.Advance(lifetime - TimeSpan.FromSeconds(30));
        var passes = await PassesAsync(access);

        Server.Clock.Advance(TimeSpan.FromSeconds(29));
        await ExpectLiveAsync(passes);
        Server.Clock.Advance(TimeSpan.FromSeconds(1));
        await Errors.ExpectAsync(() => Client.GetQRCodeAsync(new GetQRCodeRequest { PanAccessToken = access }).ResponseAsync,
            StatusCode.Unauthenticated, "GetQRCodeResponse.Error__Failed");
        await ExpectDeadAsync(passes);
    }

    /// <summary>A member imported without a phone (as legacy stores and guests leave them).</summary>
    private async Task<Member> PhonelessMemberAsync()
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var name = TestMembers.UniqueName();
        var member = new Member { DisplayName = name, DisplayNameKey = DisplayNameRules.Key(name), IsOwner = true, MigrationStatus = 1 };
        return await scope.ServiceProvider.GetRequiredService<MemberCreator>().CreateAsync(new Account(), member, default);
    }
}
