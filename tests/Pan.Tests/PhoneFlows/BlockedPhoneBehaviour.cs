using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.Data.Sms;
using Pan.General.Member;
using Pan.Tests.Admin;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using LoginPhase = Pan.General.Member.LoginRequest.Types.Phase;
using RegPhase = Pan.General.Member.RegisterRequest.Types.Phase;

namespace Pan.Tests.PhoneFlows;

/// <summary>
/// A blocked phone number (a Pan extension): no SMS of any kind goes to it and nothing counts against its caps, no
/// account takes it (registration, also after the account holding it was deleted), its SMS sign-in is refused
/// (PERMISSION_DENIED PHONE_BLOCKED), on every node at once; an unblock or an expiry lets it in again.
/// </summary>
public abstract class BlockedPhoneBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : PhoneFlowFixture
{
    private MemberServiceV2.MemberServiceV2Client Client => new(fixture.Server.Grpc);

    private Phones Phones => new(Client, fixture.Inbox);

    [Fact]
    public async Task Register_ForABlockedNumber_IsPhoneBlocked_SendsNoSms_AndCountsNothing()
    {
        var (national, e164) = Phones.NewNumber();
        await TestPhoneBlocks.BlockAsync(fixture.Server, e164);

        var ex = await Errors.ExpectAsync(() => Phones.StartRegisterAsync(national), StatusCode.PermissionDenied, "PHONE_BLOCKED");

        Assert.Equal("This number cannot be used.", ex.Status.Detail);
        Assert.Empty(fixture.Inbox.MessagesTo(e164));
        Assert.Equal(0, await CountedAsync(e164));
        Assert.False(await TestMembers.WithDbAsync(fixture.Server, db => db.Accounts.AnyAsync(a => a.PhoneE164 == e164)));
    }

    [Fact]
    public async Task LoginByPhone_OfABlockedNumberWithAnAccount_IsPhoneBlocked_WithoutSms_AndWorksAgainOnceUnblocked()
    {
        var (_, e164) = await Phones.RegisterAsync();
        await TestPhoneBlocks.BlockAsync(fixture.Server, e164);

        await Errors.ExpectAsync(() => Phones.StartLoginAsync(e164), StatusCode.PermissionDenied, "PHONE_BLOCKED");
        Assert.Single(fixture.Inbox.MessagesTo(e164)); // the registration's code only
        Assert.Equal(1, await CountedAsync(e164));

        await TestPhoneBlocks.UnblockAsync(fixture.Server, e164);
        Assert.NotEmpty(await Phones.LoginAsync(e164));
    }

    /// <summary>A code texted before the block does not complete a sign-in or a registration after it.</summary>
    [Fact]
    public async Task CodesSentBeforeTheBlock_DoNotSignInOrRegisterAfterIt()
    {
        var (_, e164) = await Phones.RegisterAsync();
        var login = await Phones.StartLoginAsync(e164);
        var loginCode = await Phones.NthCodeAsync(fixture.Inbox, e164, 2);
        var (national, fresh) = Phones.NewNumber();
        var register = await Phones.StartRegisterAsync(national);
        var registerCode = await fixture.Inbox.WaitForCodeAsync(fresh, Phones.Wait);
        await Client.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputCode, PhaseSessionToken = register.PhaseSessionToken, PhaseInputCodeValue = registerCode });

        await TestPhoneBlocks.BlockAsync(fixture.Server, e164);
        await TestPhoneBlocks.BlockAsync(fixture.Server, fresh);

        await Errors.ExpectAsync(
            () => Client.LoginAsync(new LoginRequest { Phase = LoginPhase.InputCode, PhaseSessionToken = login.PhaseSessionToken, PhaseInputCodeValue = loginCode }).ResponseAsync,
            StatusCode.PermissionDenied, "PHONE_BLOCKED");
        await Errors.ExpectAsync(
            () => Client.RegisterAsync(new RegisterRequest { Phase = RegPhase.InputName, PhaseSessionToken = register.PhaseSessionToken, PhaseInputNameValue = Phones.NewName() }).ResponseAsync,
            StatusCode.PermissionDenied, "PHONE_BLOCKED");
        Assert.False(await TestMembers.WithDbAsync(fixture.Server, db => db.Accounts.AnyAsync(a => a.PhoneE164 == fresh)));
    }

    [Fact]
    public async Task ABlockWithAnExpiry_StopsApplyingByItself()
    {
        var (national, e164) = Phones.NewNumber();
        await TestPhoneBlocks.BlockAsync(fixture.Server, e164, fixture.Server.Clock.GetUtcNow().AddMinutes(30));
        await Errors.ExpectAsync(() => Phones.StartRegisterAsync(national), StatusCode.PermissionDenied, "PHONE_BLOCKED");

        fixture.Server.Clock.Advance(TimeSpan.FromMinutes(31));

        await Phones.StartRegisterAsync(national);
        Assert.NotEmpty(await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait));
    }

    [Fact]
    public async Task DeletingTheAccount_DoesNotLiftTheBlock_ReRegisteringIsRefused()
    {
        var (auth, e164) = await Phones.RegisterAsync();
        var me = (await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(auth), AppId = "jkforum" })).User;
        await TestPhoneBlocks.BlockAsync(fixture.Server, e164);
        var commands = new Pan.General.Member.Dangerous.Command.CommandClient(fixture.Server.Grpc);
        await commands.DeleteMemberAsync(new Pan.General.Member.Dangerous.CmdDeleteMemberRequest
        {
            AppId = "jkforum",
            PanAccessToken = await Phones.AccessTokenAsync(auth),
            DelToken = await Pan.Tests.Foundation.HalfWrittenChecks.VerifyTokenAsync(fixture.Server, me.Uid, Pan.Server.Tokens.VerifyPurposes.Delete),
        });
        Assert.False(await TestMembers.WithDbAsync(fixture.Server, db => db.Accounts.AnyAsync(a => a.PhoneE164 == e164 && a.Deleted == null)));

        await Errors.ExpectAsync(() => Phones.StartRegisterAsync("0" + e164[4..]), StatusCode.PermissionDenied, "PHONE_BLOCKED");

        Assert.Single(fixture.Inbox.MessagesTo(e164));
    }

    /// <summary>Two nodes on one database: a block made on node A is seen by node B at once, and so is its unblock.</summary>
    [Fact]
    public async Task ABlockOnOneNode_IsSeenAtOnceOnAnother_AndSoIsItsUnblock()
    {
        await using var nodeB = await fixture.StartNodeAsync(fixture.NodeSettings);
        var phonesB = new Phones(new MemberServiceV2.MemberServiceV2Client(nodeB.Grpc), fixture.Inbox);
        var (_, e164) = await Phones.RegisterAsync();
        Assert.NotEmpty(await phonesB.LoginAsync(e164));

        await TestPhoneBlocks.BlockAsync(fixture.Server, e164);
        await Errors.ExpectAsync(() => phonesB.StartLoginAsync(e164), StatusCode.PermissionDenied, "PHONE_BLOCKED");

        await TestPhoneBlocks.UnblockAsync(fixture.Server, e164);
        await phonesB.StartLoginAsync(e164);
        Assert.NotEmpty(await Phones.NthCodeAsync(fixture.Inbox, e164, 3));
    }

    /// <summary>
    /// Blocking leaves the number's account as it is (its tokens keep working), but no member is added to it: NewMember
    /// with an auth token issued before the block is refused.
    /// </summary>
    [Fact]
    public async Task NewMember_UnderABlockedNumber_IsPhoneBlocked_WhileItsMembersKeepTheirTokens()
    {
        var (auth, e164) = await Phones.RegisterAsync();
        var access = await Phones.AccessTokenAsync(auth);
        await TestPhoneBlocks.BlockAsync(fixture.Server, e164);

        await Errors.ExpectAsync(() => Client.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = Phones.NewName() }).ResponseAsync,
            StatusCode.PermissionDenied, "PHONE_BLOCKED");

        Assert.Equal(1, await TestMembers.WithDbAsync(fixture.Server, db => db.Members.CountAsync(m => m.Account!.PhoneE164 == e164)));
        Assert.Equal(e164, (await Client.MeAsync(new MeRequest { AccessToken = access, AppId = "jkforum" })).User.Phone);
    }

    /// <summary>The SMS step-up of a member whose number is blocked sends no code: PHONE_BLOCKED, not a cap or a cool-down.</summary>
    [Fact]
    public async Task SendPhoneVerification_ToABlockedNumber_IsPhoneBlocked_AndSendsNothing()
    {
        var (auth, e164) = await Phones.RegisterAsync();
        var access = await Phones.AccessTokenAsync(auth);
        await TestPhoneBlocks.BlockAsync(fixture.Server, e164);

        await Errors.ExpectAsync(
            () => Client.SendPhoneVerificationAsync(new SendPhoneVerificationRequest { PanAccessToken = access, SessionToken = Pan.Server.Tokens.VerifyPurposes.UpdateCredential }).ResponseAsync,
            StatusCode.PermissionDenied, "PHONE_BLOCKED");

        Assert.Single(fixture.Inbox.MessagesTo(e164));
        Assert.Equal(1, await CountedAsync(e164));
    }

    /// <summary>ValidateNewMember does not move a phoneless member under a blocked number's account either.</summary>
    [Fact]
    public async Task ValidateNewMember_IntoABlockedNumbersAccount_IsPhoneBlocked_AndMovesNothing()
    {
        var (auth, e164) = await Phones.RegisterAsync();
        var name = Phones.NewName();
        var joining = await Phones.PhonelessAccessTokenAsync(fixture.Server, name);
        var proof = await Phones.ProofForAsync(fixture.Server, joining);
        await TestPhoneBlocks.BlockAsync(fixture.Server, e164);

        await Errors.ExpectAsync(
            () => Client.ValidateNewMemberAsync(new ValidateNewMemberRequest { CurrentPhoneAuthToken = auth, NewMemberAccessToken = joining, VerifyToken = proof }).ResponseAsync,
            StatusCode.PermissionDenied, "PHONE_BLOCKED");

        Assert.Equal(1, await TestMembers.WithDbAsync(fixture.Server, db => db.Members.CountAsync(m => m.Account!.PhoneE164 == e164)));
    }

    /// <summary>A ValidatePhoneV2 flow whose code went out before the block does not bind the number to the member after it.</summary>
    [Fact]
    public async Task ValidatePhoneV2_StartedBeforeTheBlock_DoesNotBindTheNumberAfterIt()
    {
        var access = await Phones.PhonelessAccessTokenAsync(fixture.Server, Phones.NewName());
        var (national, e164) = Phones.NewNumber();
        var start = await Client.ValidatePhoneV2Async(new ValidatePhoneV2Request
        {
            AccessToken = access, Phase = ValidatePhoneV2Request.Types.Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886",
            PhaseCheckExistenceValue = national, VerifyToken = await Phones.ProofForAsync(fixture.Server, access),
        });
        var code = await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait);
        await TestPhoneBlocks.BlockAsync(fixture.Server, e164);

        await Errors.ExpectAsync(
            () => Client.ValidatePhoneV2Async(new ValidatePhoneV2Request
            {
                AccessToken = access, Phase = ValidatePhoneV2Request.Types.Phase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code,
            }).ResponseAsync,
            StatusCode.PermissionDenied, "PHONE_BLOCKED");

        Assert.False(await TestMembers.WithDbAsync(fixture.Server, db => db.Accounts.AnyAsync(a => a.PhoneE164 == e164)));
    }

    /// <summary>What the number's SMS counters hold (every bucket, every span): sends that count against its caps.</summary>
    private Task<int> CountedAsync(string e164)
    {
        var key = "p:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(e164)));
        return TestMembers.WithDbAsync(fixture.Server, db => db.Set<SmsCount>().Where(c => c.Key == key && c.Span == SmsCount.MinuteSpan).SumAsync(c => c.Sends));
    }
}

public sealed class BlockedPhoneBehaviour_Sqlite(SqlitePhoneFlowFixture f) : BlockedPhoneBehaviour<SqlitePhoneFlowFixture>(f);

public sealed class BlockedPhoneBehaviour_Postgres(PostgresPhoneFlowFixture f) : BlockedPhoneBehaviour<PostgresPhoneFlowFixture>(f);
