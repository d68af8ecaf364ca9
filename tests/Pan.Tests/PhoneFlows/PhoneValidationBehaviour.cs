using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.General.Member;
using Pan.Server.Members;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using V1Phase = Pan.General.Member.ValidatePhoneRequest.Types.Phase;
using V2Phase = Pan.General.Member.ValidatePhoneV2Request.Types.Phase;

namespace Pan.Tests.PhoneFlows;

/// <summary>A member without a phone (imported, guest) proves one by SMS and is bound to it.</summary>
public abstract class PhoneValidationBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : PhoneFlowFixture
{
    private MemberServiceV2.MemberServiceV2Client Client => new(fixture.Server.Grpc);

    private Phones Phones => new(Client, fixture.Inbox);

    [Fact]
    public async Task Chain_APhoneBoundWithTheAccessTokenAlone_IsRefused_SoTheCallersPhoneNeverSignsInAsTheMember()
    {
        // A member imported without a phone, and an app that holds only its access token and a phone of its own.
        var (access, _) = await PhonelessMemberAsync(Phones.NewName());
        var (national, e164) = Phones.NewNumber();

        // 1. ValidatePhoneV2 / ValidatePhone with the access token alone and the caller's phone: refused before any text.
        await Errors.ExpectAsync(
            () => Client.ValidatePhoneV2Async(new ValidatePhoneV2Request
            {
                AccessToken = access, Phase = V2Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national,
            }).ResponseAsync,
            StatusCode.PermissionDenied, "ErrValidatePhoneV2.FAILED");
        await Errors.ExpectAsync(
            () => Client.ValidatePhoneAsync(new ValidatePhoneRequest { AccessToken = access, Phase = V1Phase.CheckExistence, PhaseCheckExistenceValue = e164 }).ResponseAsync,
            StatusCode.PermissionDenied, "ErrValidatePhone.FAILED");
        await Task.Delay(200);
        Assert.Empty(fixture.Inbox.MessagesTo(e164));

        // 2. So no code reaches that phone and no phone-level auth token comes back: the member keeps no phone, and its
        //    sessions (which the binding would have ended) stay.
        var me = await Client.MeAsync(new MeRequest { AccessToken = access, AppId = "jkforum" });
        Assert.Equal(string.Empty, me.User.Phone);
    }

    [Fact]
    public async Task ValidatePhoneV2_WithThePasswordProofOfAnImportedMember_BindsThePhone_AndTheFlowCarriesTheProof()
    {
        // An imported member without a phone proves itself by its password; the later steps send no verify token.
        var name = Phones.NewName();
        const string Password = "tangerine orbit 58";
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var created = await scope.ServiceProvider.GetRequiredService<MemberCreator>().CreateAsync(
                new Account(), new Member { DisplayName = name, DisplayNameKey = Pan.Server.DisplayNames.DisplayNameRules.Key(name), IsOwner = true, MigrationStatus = 2 }, default);
            await scope.ServiceProvider.GetRequiredService<Pan.Server.Credentials.CredentialStore>().SetPasswordAsync(created.Uid, Password, null, default);
        }

        var signedIn = await Phones.PasswordSignInAsync(name, Password);
        var access = await Phones.AccessTokenAsync(signedIn);
        var proof = await Client.VerifyMemberByPasswordAsync(new VerifyMemberByPasswordRequest { DisplayName = name, Password = Password, SessionToken = "update-credential" });
        var (national, e164) = Phones.NewNumber();
        var start = await Client.ValidatePhoneV2Async(new ValidatePhoneV2Request
        {
            AccessToken = access, Phase = V2Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national, VerifyToken = proof.VerifyToken,
        });
        var code = await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait);
        var done = await Client.ValidatePhoneV2Async(new ValidatePhoneV2Request
        {
            AccessToken = access, Phase = V2Phase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code,
        });

        Assert.Equal(V2Phase.Done, done.NextPhase);
        var me = await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(done.NewAuthToken), AppId = "jkforum" });
        Assert.Equal(e164, me.User.Phone);
    }

    [Fact]
    public async Task ValidatePhone_CheckExistenceWithoutAValidUpdateCredentialToken_IsFailed_TextsNothing_AndSpendsNothing()
    {
        var (access, _) = await PhonelessMemberAsync(Phones.NewName());
        var (otherAccess, _) = await PhonelessMemberAsync(Phones.NewName());
        var uid = (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access })).Info.Uid;
        var othersProof = await Phones.ProofForAsync(fixture.Server, otherAccess);
        var (national, e164) = Phones.NewNumber();
        var bad = new List<string> { string.Empty, "not-a-token", othersProof };
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var tokens = scope.ServiceProvider.GetRequiredService<TokenService>();
            bad.Add((await tokens.IssueVerifyTokenAsync(uid, VerifyPurposes.SwitchMember, default)).Token);
            bad.Add((await tokens.IssueVerifyTokenAsync(uid, VerifyPurposes.Delete, default)).Token);
        }

        foreach (var verifyToken in bad)
        {
            await Errors.ExpectAsync(
                () => Client.ValidatePhoneV2Async(new ValidatePhoneV2Request
                {
                    AccessToken = access, Phase = V2Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national, VerifyToken = verifyToken,
                }).ResponseAsync,
                StatusCode.PermissionDenied, "ErrValidatePhoneV2.FAILED");
        }

        await Task.Delay(200);
        Assert.Empty(fixture.Inbox.MessagesTo(e164));

        // The member's own token starts the flow, once: it is spent with the flow's start.
        var proof = await Phones.ProofForAsync(fixture.Server, access);
        var start = new ValidatePhoneRequest { AccessToken = access, Phase = V1Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national, VerifyToken = proof };
        await Client.ValidatePhoneAsync(start);
        await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait);
        await Errors.ExpectAsync(() => Client.ValidatePhoneAsync(start).ResponseAsync, StatusCode.PermissionDenied, "ErrValidatePhone.FAILED");
        await using (var scope = fixture.Server.Services.CreateAsyncScope())
        {
            var tokens = scope.ServiceProvider.GetRequiredService<TokenService>();
            Assert.True(await tokens.VerifyTokenIsLiveAsync(othersProof, (await tokens.ValidateAccessTokenAsync(otherAccess, default))!.Uid, VerifyPurposes.UpdateCredential, default));
        }
    }

    [Fact]
    public async Task ValidatePhoneV2_BindsANewPhone_AndReturnsAPhoneAuthToken()
    {
        var (access, _) = await PhonelessMemberAsync(Phones.NewName());
        var (national, e164) = Phones.NewNumber();
        var start = await Client.ValidatePhoneV2Async(new ValidatePhoneV2Request
        {
            AccessToken = access, Phase = V2Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national,
            VerifyToken = await Phones.ProofForAsync(fixture.Server, access),
        });
        Assert.Equal(V2Phase.InputCode, start.NextPhase);
        var code = await fixture.Inbox.WaitForCodeAsync(e164, Phones.Wait);
        var done = await Client.ValidatePhoneV2Async(new ValidatePhoneV2Request
        {
            AccessToken = access, Phase = V2Phase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code,
        });
        Assert.Equal(V2Phase.Done, done.NextPhase);
        var me = await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(done.NewAuthToken), AppId = "jkforum" });
        Assert.Equal(e164, me.User.Phone);

        // The old access token was ended with the member's old sessions.
        await Assert.ThrowsAsync<RpcException>(() => Client.MeAsync(new MeRequest { AccessToken = access, AppId = "jkforum" }).ResponseAsync);
    }

    [Fact]
    public async Task ValidatePhone_WithAnInvalidLegacyName_AsksForANewNameAndJoinsTheExistingPhone()
    {
        var (_, e164) = await Phones.RegisterAsync();
        var (access, objectId) = await PhonelessMemberAsync("bad name!!");
        var start = await Client.ValidatePhoneAsync(new ValidatePhoneRequest
        {
            AccessToken = access, Phase = V1Phase.CheckExistence, PhaseCheckExistenceValue = e164, VerifyToken = await Phones.ProofForAsync(fixture.Server, access),
        });
        var code = await Phones.NthCodeAsync(fixture.Inbox, e164, 2);
        var afterCode = await Client.ValidatePhoneAsync(new ValidatePhoneRequest { AccessToken = access, Phase = V1Phase.InputCode, PhaseSessionToken = start.PhaseSessionToken, PhaseInputCodeValue = code });
        Assert.Equal(V1Phase.InputName, afterCode.NextPhase);

        await Errors.ExpectAsync(
            () => Client.ValidatePhoneAsync(new ValidatePhoneRequest { AccessToken = access, Phase = V1Phase.InputName, PhaseSessionToken = start.PhaseSessionToken, PhaseInputNameValue = "x" }).ResponseAsync,
            StatusCode.InvalidArgument, "ErrValidatePhone.NAME_INVALID");
        var name = Phones.NewName();
        var done = await Client.ValidatePhoneAsync(new ValidatePhoneRequest { AccessToken = access, Phase = V1Phase.InputName, PhaseSessionToken = start.PhaseSessionToken, PhaseInputNameValue = name });
        var me = await Client.MeAsync(new MeRequest { AccessToken = await Phones.AccessTokenAsync(done.NewAuthToken, objectId), AppId = "jkforum" });
        Assert.Equal(name, me.User.DisplayName);
        Assert.Equal(e164, me.User.Phone);
        Assert.False(me.User.IsOwner);
    }

    [Fact]
    public async Task ValidatePhone_ForAMemberThatHasAPhone_IsExistingPhone_AndBadTokenIsTokenInvalid()
    {
        var (auth, _) = await Phones.RegisterAsync();
        var access = await Phones.AccessTokenAsync(auth);
        var (national, _) = Phones.NewNumber();
        await Errors.ExpectAsync(
            () => Client.ValidatePhoneV2Async(new ValidatePhoneV2Request { AccessToken = access, Phase = V2Phase.CheckExistence, PhaseCheckExistenceCountryCode = "886", PhaseCheckExistenceValue = national }).ResponseAsync,
            StatusCode.AlreadyExists, "ErrValidatePhoneV2.EXISTING_PHONE");
        await Errors.ExpectAsync(
            () => Client.ValidatePhoneAsync(new ValidatePhoneRequest { AccessToken = "bad", Phase = V1Phase.CheckExistence, PhaseCheckExistenceValue = national }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrValidatePhone.TOKEN_INVALID");
    }

    /// <summary>A member imported without a phone, signed in (its access token), as legacy stores leave them.</summary>
    private async Task<(string Access, string ObjectId)> PhonelessMemberAsync(string name)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var member = await scope.ServiceProvider.GetRequiredService<MemberCreator>()
            .CreateAsync(new Account(), new Member { DisplayName = name, DisplayNameKey = "legacy-" + Guid.NewGuid().ToString("N"), MigrationStatus = 2 }, default);
        var tokens = scope.ServiceProvider.GetRequiredService<TokenService>();
        var auth = await tokens.IssueAuthTokenAsync(member, AuthMethods.Password, default);
        var claims = await tokens.ValidateAuthTokenAsync(auth.Token, default);
        return ((await tokens.IssueAccessTokenAsync(claims!, member, "jkforum", default)).Token, member.ObjectId.ToString());
    }
}

public sealed class PhoneValidationBehaviour_Sqlite(SqlitePhoneFlowFixture f) : PhoneValidationBehaviour<SqlitePhoneFlowFixture>(f);

public sealed class PhoneValidationBehaviour_Postgres(PostgresPhoneFlowFixture f) : PhoneValidationBehaviour<PostgresPhoneFlowFixture>(f);
