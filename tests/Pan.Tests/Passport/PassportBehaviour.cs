using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Passport;

/// <summary>
/// The membership card (GetPassportToken / ValidatePassportToken), the member's QR code (GetQRCode / ValidateQRCode)
/// and AvPlus. The images are decoded with zbarimg, as a scanner would. Scanner calls go to the fixture's scanner node,
/// whose app check is a test double (see <see cref="ExtrasFixture"/>).
/// </summary>
public abstract partial class PassportBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ExtrasFixture
{
    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Client => new(Server.Grpc);

    private MemberServiceV2.MemberServiceV2Client Scanner => new(fixture.Scanner.Grpc);

    private static Metadata ScannerApp(string secret = ExtrasFixture.ScannerSecret) => new()
    {
        { "x-pan-app-id", ExtrasFixture.ScannerAppId },
        { "x-pan-app-secret", secret },
    };

    [Fact]
    public async Task ThePassportQrCodeAndBarcode_HoldTheToken_WhichAScannerAppValidates()
    {
        var member = await TestMembers.CreateAsync(Server);
        var card = await Client.GetPassportTokenAsync(new GetPassportTokenRequest { AccessToken = await TestMembers.AccessTokenAsync(Server, member) });

        Assert.Matches("^[A-Za-z0-9_-]{22}$", card.PassportToken);
        Assert.Equal(card.PassportToken, await Zbar.DecodeOneAsync(Convert.FromBase64String(card.QrcodeBase64)));
        Assert.Equal(card.PassportToken, await Zbar.DecodeOneAsync(Convert.FromBase64String(card.BarcodeBase64)));

        var scanned = await Scanner.ValidatePassportTokenAsync(new ValidatePassportTokenRequest { PassportToken = card.PassportToken }, ScannerApp());
        var phone = await TestMembers.WithDbAsync(Server, db => Task.FromResult(db.Accounts.Single(a => a.Id == member.AccountId).PhoneE164));
        Assert.Equal((member.ObjectId.ToString("D"), member.Uid, phone, member.DisplayName), (scanned.Uuid, scanned.Uid, scanned.Phone, scanned.DisplayName));
    }

    [Fact]
    public async Task AScannerWithARealAppSecret_FromTheRegistry_ValidatesTheCard_AndAWrongSecretIsUnauthenticated()
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var secret = await scope.ServiceProvider.GetRequiredService<Pan.Server.Apps.AppAdministration>().RotateSecretAsync("shop24h", default);
        var member = await TestMembers.CreateAsync(Server);
        var card = await Client.GetPassportTokenAsync(new GetPassportTokenRequest { AccessToken = await TestMembers.AccessTokenAsync(Server, member) });
        Metadata App(string s) => new() { { "x-pan-app-id", "shop24h" }, { "x-pan-app-secret", s } };

        var scanned = await Client.ValidatePassportTokenAsync(new ValidatePassportTokenRequest { PassportToken = card.PassportToken }, App(secret));
        Assert.Equal(member.Uid, scanned.Uid);

        var wrong = await Assert.ThrowsAsync<RpcException>(() =>
            Client.ValidatePassportTokenAsync(new ValidatePassportTokenRequest { PassportToken = card.PassportToken }, App(secret + "x")).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
    }

    [Fact]
    public async Task ANewPassportToken_ReplacesThePreviousOne()
    {
        var token = await TestMembers.AccessTokenAsync(Server, await TestMembers.CreateAsync(Server));
        var first = await Client.GetPassportTokenAsync(new GetPassportTokenRequest { AccessToken = token });
        var second = await Client.GetPassportTokenAsync(new GetPassportTokenRequest { AccessToken = token });

        await Errors.ExpectAsync(() => Scanner.ValidatePassportTokenAsync(new ValidatePassportTokenRequest { PassportToken = first.PassportToken }, ScannerApp()).ResponseAsync,
            StatusCode.NotFound, "PASSPORT_TOKEN_INVALID");
        await Scanner.ValidatePassportTokenAsync(new ValidatePassportTokenRequest { PassportToken = second.PassportToken }, ScannerApp());
    }

    [Fact]
    public async Task APassportToken_ExpiresAfterItsLifetime()
    {
        var token = await TestMembers.AccessTokenAsync(Server, await TestMembers.CreateAsync(Server));
        var card = await Client.GetPassportTokenAsync(new GetPassportTokenRequest { AccessToken = token });

        Server.Clock.Advance(TimeSpan.FromSeconds(59));
        await Scanner.ValidatePassportTokenAsync(new ValidatePassportTokenRequest { PassportToken = card.PassportToken }, ScannerApp());
        Server.Clock.Advance(TimeSpan.FromSeconds(2));
        await Errors.ExpectAsync(() => Scanner.ValidatePassportTokenAsync(new ValidatePassportTokenRequest { PassportToken = card.PassportToken }, ScannerApp()).ResponseAsync,
            StatusCode.NotFound, "PASSPORT_TOKEN_INVALID");
    }

    [Fact]
    public async Task ValidatePassportToken_WithoutTheRightApp_IsUnauthenticated()
    {
        var token = await TestMembers.AccessTokenAsync(Server, await TestMembers.CreateAsync(Server));
        var card = await Client.GetPassportTokenAsync(new GetPassportTokenRequest { AccessToken = token });
        var request = new ValidatePassportTokenRequest { PassportToken = card.PassportToken };

        await Errors.ExpectAsync(() => Scanner.ValidatePassportTokenAsync(request).ResponseAsync, StatusCode.Unauthenticated, "APP_UNAUTHENTICATED");
        await Errors.ExpectAsync(() => Scanner.ValidatePassportTokenAsync(request, ScannerApp("wrong")).ResponseAsync, StatusCode.Unauthenticated, "APP_UNAUTHENTICATED");
        // The main node asks the real app registry; without credentials it never gets that far.
        await Errors.ExpectAsync(() => Client.ValidatePassportTokenAsync(request).ResponseAsync, StatusCode.Unauthenticated, "APP_UNAUTHENTICATED");
    }

    [Fact]
    public async Task ValidatePassportToken_BadTokens_AreRefused()
    {
        var empty = await Errors.ExpectAsync(() => Scanner.ValidatePassportTokenAsync(new ValidatePassportTokenRequest(), ScannerApp()).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("passport_token", Assert.Single(empty.BadRequest()!.FieldViolations).Field);
        foreach (var bad in new[] { "short", new string('A', 22), new string('x', 5000) })
        {
            await Errors.ExpectAsync(() => Scanner.ValidatePassportTokenAsync(new ValidatePassportTokenRequest { PassportToken = bad }, ScannerApp()).ResponseAsync,
                StatusCode.NotFound, "PASSPORT_TOKEN_INVALID");
        }

        await Errors.ExpectAsync(() => Client.GetPassportTokenAsync(new GetPassportTokenRequest { AccessToken = "nope" }).ResponseAsync,
            StatusCode.Unauthenticated, "TOKEN_INVALID");
    }

    [Fact]
    public async Task ValidatePassportToken_OverHttpJson_ReadsTheAppHeaders()
    {
        var member = await TestMembers.CreateAsync(Server);
        var card = await Client.GetPassportTokenAsync(new GetPassportTokenRequest { AccessToken = await TestMembers.AccessTokenAsync(Server, member) });

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/member/validate-passport-token")
        {
            Content = JsonContent.Create(new { passportToken = card.PassportToken }),
        };
        request.Headers.Add("x-pan-app-id", ExtrasFixture.ScannerAppId);
        request.Headers.Add("x-pan-app-secret", ExtrasFixture.ScannerSecret);
        using var response = await fixture.Scanner.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(member.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture), (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("uid").GetString());
    }

    [Fact]
    public async Task TheMembersQrCode_EncodesWhatValidateQRCodeAccepts()
    {
        var member = await TestMembers.CreateAsync(Server);
        var qr = await Client.GetQRCodeAsync(new GetQRCodeRequest { PanAccessToken = await TestMembers.AccessTokenAsync(Server, member) });

        var scanned = Payload().Match(await Zbar.DecodeOneAsync(Convert.FromBase64String(qr.ImageContent)));
        Assert.True(scanned.Success);
        Assert.Equal((qr.Uuid, qr.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture), qr.VerifyCode),
            (scanned.Groups["uuid"].Value, scanned.Groups["uid"].Value, scanned.Groups["code"].Value));
        Assert.Equal((member.ObjectId.ToString("D"), member.Uid, member.DisplayName), (qr.Uuid, qr.Uid, qr.DisplayName));
        Assert.False(string.IsNullOrEmpty(qr.PhoneId));

        await Client.ValidateQRCodeAsync(new ValidateQRCodeRequest
        {
            Uuid = scanned.Groups["uuid"].Value,
            Uid = long.Parse(scanned.Groups["uid"].Value, System.Globalization.CultureInfo.InvariantCulture),
            VerifyCode = scanned.Groups["code"].Value,
        });
    }

    [Fact]
    public async Task ValidateQRCode_RefusesOtherMembersReplacedAndExpiredCodes()
    {
        var member = await TestMembers.CreateAsync(Server);
        var other = await TestMembers.CreateAsync(Server);
        var token = await TestMembers.AccessTokenAsync(Server, member);
        var old = await Client.GetQRCodeAsync(new GetQRCodeRequest { PanAccessToken = token });
        var current = await Client.GetQRCodeAsync(new GetQRCodeRequest { PanAccessToken = token });
        await Client.ValidateQRCodeAsync(new ValidateQRCodeRequest { Uuid = current.Uuid, Uid = current.Uid, VerifyCode = current.VerifyCode });

        ValidateQRCodeRequest[] refused =
        [
            new() { Uuid = old.Uuid, Uid = old.Uid, VerifyCode = old.VerifyCode },
            new() { Uuid = other.ObjectId.ToString("D"), Uid = current.Uid, VerifyCode = current.VerifyCode },
            new() { Uuid = current.Uuid, Uid = other.Uid, VerifyCode = current.VerifyCode },
            new() { Uuid = current.Uuid, Uid = current.Uid, VerifyCode = current.VerifyCode[..^1] + (current.VerifyCode[^1] == 'A' ? 'B' : 'A') },
        ];
        foreach (var request in refused)
        {
            await Errors.ExpectAsync(() => Client.ValidateQRCodeAsync(request).ResponseAsync, StatusCode.NotFound, "ValidateQRCodeResponse.Error__Failed");
        }

        Server.Clock.Advance(TimeSpan.FromSeconds(601));
        await Errors.ExpectAsync(
            () => Client.ValidateQRCodeAsync(new ValidateQRCodeRequest { Uuid = current.Uuid, Uid = current.Uid, VerifyCode = current.VerifyCode }).ResponseAsync,
            StatusCode.NotFound, "ValidateQRCodeResponse.Error__Failed");
    }

    [Fact]
    public async Task QrCalls_WithBadInput_NameTheField()
    {
        var uuid = await Errors.ExpectAsync(() => Client.ValidateQRCodeAsync(new ValidateQRCodeRequest { Uuid = "x", Uid = 1, VerifyCode = "c" }).ResponseAsync,
            StatusCode.InvalidArgument, "ValidateQRCodeResponse.Error__Failed");
        Assert.Equal("uuid", Assert.Single(uuid.BadRequest()!.FieldViolations).Field);
        var uid = await Errors.ExpectAsync(() => Client.ValidateQRCodeAsync(new ValidateQRCodeRequest { Uuid = Guid.NewGuid().ToString(), Uid = 0, VerifyCode = "c" }).ResponseAsync,
            StatusCode.InvalidArgument, "ValidateQRCodeResponse.Error__Failed");
        Assert.Equal("uid", Assert.Single(uid.BadRequest()!.FieldViolations).Field);
        var code = await Errors.ExpectAsync(() => Client.ValidateQRCodeAsync(new ValidateQRCodeRequest { Uuid = Guid.NewGuid().ToString(), Uid = 1 }).ResponseAsync,
            StatusCode.InvalidArgument, "ValidateQRCodeResponse.Error__Failed");
        Assert.Equal("verify_code", Assert.Single(code.BadRequest()!.FieldViolations).Field);

        await Errors.ExpectAsync(() => Client.GetQRCodeAsync(new GetQRCodeRequest { PanAccessToken = "nope" }).ResponseAsync,
            StatusCode.Unauthenticated, "GetQRCodeResponse.Error__Failed");
    }

    [Fact]
    public async Task AvPlus_IsVip_OnlyWhileTheVipDateIsAhead()
    {
        var now = Server.Clock.GetUtcNow();
        var vip = await TestMembers.CreateAsync(Server, m => m.VipExpireDate = now.AddDays(1));
        var lapsed = await TestMembers.CreateAsync(Server, m => m.VipExpireDate = now.AddSeconds(-1));
        var never = await TestMembers.CreateAsync(Server);

        Assert.True((await Client.AvPlusAsync(new AvPlusRequest { PanAccessToken = await TestMembers.AccessTokenAsync(Server, vip) })).IsVip);
        Assert.False((await Client.AvPlusAsync(new AvPlusRequest { PanAccessToken = await TestMembers.AccessTokenAsync(Server, lapsed) })).IsVip);
        Assert.False((await Client.AvPlusAsync(new AvPlusRequest { PanAccessToken = await TestMembers.AccessTokenAsync(Server, never) })).IsVip);
        await Errors.ExpectAsync(() => Client.AvPlusAsync(new AvPlusRequest { PanAccessToken = "nope" }).ResponseAsync, StatusCode.Unauthenticated, "TOKEN_INVALID");
    }

    [Fact]
    public async Task Logout_EndsThePassesAtOnce_AndTheMembersOtherSessionGetsNewOnes()
    {
        // SECURITY 12: a pass is no longer than what signed the member in; logout ends it at once, not after its lifetime.
        var member = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, member);
        var auth = await TestMembers.AuthTokenAsync(Server, member);
        var access = await TestMembers.AccessTokenAsync(Server, auth, member);
        var siblingAccess = await TestMembers.AccessTokenAsync(Server, auth, sibling);
        var otherDevice = await TestMembers.AccessTokenAsync(Server, member);
        var passes = await PassesAsync(access);
        var siblingPasses = await PassesAsync(siblingAccess);

        await Client.LogoutAsync(new LogoutRequest { PanAccessToken = access, Token2 = auth });

        await ExpectDeadAsync(passes);
        // The session spoke for every member of the phone, so a pass it fetched for another member ends too.
        await ExpectDeadAsync(siblingPasses);
        await ExpectLiveAsync(await PassesAsync(otherDevice));
    }

    [Fact]
    public async Task Logout_OfAMemberBoundSession_EndsThatMembersPasses_AndLeavesTheOtherMembers()
    {
        // A password (or email, hand-off, social) sign-in speaks for its member alone: its logout ends that member's
        // passes, never those another member of the phone fetched.
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var ownerPasses = await PassesAsync(await TestMembers.AccessTokenAsync(Server, owner));
        var bound = await TestMembers.AccessTokenAsync(Server, await TestMembers.AuthTokenAsync(Server, sibling, AuthMethods.Password), sibling);
        var siblingPasses = await PassesAsync(bound);

        await Client.LogoutAsync(new LogoutRequest { PanAccessToken = bound });

        await ExpectDeadAsync(siblingPasses);
        await ExpectLiveAsync(ownerPasses);
    }

    [Fact]
    public async Task EndSessionAndEndOtherSessions_FromAMemberBoundSession_LeaveTheOtherMembersPasses()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var ownerPasses = await PassesAsync(await TestMembers.AccessTokenAsync(Server, owner));
        var first = await TestMembers.AccessTokenAsync(Server, await TestMembers.AuthTokenAsync(Server, sibling, AuthMethods.Password), sibling);
        var second = await TestMembers.AccessTokenAsync(Server, await TestMembers.AuthTokenAsync(Server, sibling, AuthMethods.EmailCode), sibling);
        var third = await TestMembers.AccessTokenAsync(Server, await TestMembers.AuthTokenAsync(Server, sibling, AuthMethods.Password), sibling);
        var listed = (await Client.ListSessionsAsync(new ListSessionsRequest { AccessToken = first })).Sessions;
        var secondsSession = Assert.Single(listed, s => s.AuthMethod == AuthMethods.EmailCode).SessionId;

        var siblingPasses = await PassesAsync(first);
        await Client.EndSessionAsync(new EndSessionRequest { AccessToken = first, SessionId = secondsSession });
        await ExpectDeadAsync(siblingPasses);
        await ExpectLiveAsync(ownerPasses);

        siblingPasses = await PassesAsync(first);
        Assert.Equal(1, (await Client.EndOtherSessionsAsync(new EndOtherSessionsRequest { AccessToken = first })).Ended);
        await ExpectDeadAsync(siblingPasses);
        await ExpectLiveAsync(ownerPasses);
        await Errors.ExpectAsync(() => Client.MeAsync(new MeRequest { AccessToken = second }).ResponseAsync, StatusCode.Unauthenticated, "ErrMe.TOKEN_INVALID");
        await Errors.ExpectAsync(() => Client.MeAsync(new MeRequest { AccessToken = third }).ResponseAsync, StatusCode.Unauthenticated, "ErrMe.TOKEN_INVALID");
    }

    [Fact]
    public async Task EndSession_OfAPhoneSession_EndsThePassesOfEveryMemberOfThePhone()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var caller = await TestMembers.AccessTokenAsync(Server, owner);
        var ended = await TestMembers.AuthTokenAsync(Server, owner);
        var siblingPasses = await PassesAsync(await TestMembers.AccessTokenAsync(Server, ended, sibling));
        var session = await TestMembers.WithDbAsync(Server, db => Task.FromResult(
            db.Set<Pan.Data.Tokens.AuthSession>().Where(s => s.Uid == owner.Uid).OrderByDescending(s => s.Id).Select(s => s.PublicId).First()));

        await Client.EndSessionAsync(new EndSessionRequest { AccessToken = caller, SessionId = Pan.Server.Session.SessionIds.Encode(session) });

        await ExpectDeadAsync(siblingPasses);
    }

    [Fact]
    public async Task PasswordChange_EndsThePassesAtOnce_AndTheCallersKeptSessionGetsNewOnes()
    {
        var member = await Pan.Tests.Credentials.TestCredentials.MemberWithPasswordAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, member);
        var access = await TestMembers.AccessTokenAsync(Server, auth, member);
        var passes = await PassesAsync(await TestMembers.AccessTokenAsync(Server, member));

        await Client.UpdateCredentialAsync(new UpdateCredentialRequest
        {
            PanAuthToken = auth,
            OriginalPassword = Pan.Tests.Credentials.TestCredentials.Password,
            NewPassword = Pan.Tests.Credentials.TestCredentials.OtherPassword,
            ConfirmNewPassword = Pan.Tests.Credentials.TestCredentials.OtherPassword,
        });

        await ExpectDeadAsync(passes);
        await ExpectLiveAsync(await PassesAsync(access));
    }

    [Fact]
    public async Task AdminPasswordChange_EndsThePassesAtOnce()
    {
        var member = await TestMembers.CreateAsync(Server);
        var passes = await PassesAsync(await TestMembers.AccessTokenAsync(Server, member));

        await using (var scope = Server.Services.CreateAsyncScope())
        {
            // As AdminActions runs it: the hash first, then the change in a transaction.
            var maintenance = scope.ServiceProvider.GetRequiredService<Pan.Server.Admin.MemberMaintenance>();
            var prepared = await maintenance.PreparePasswordAsync(member.Uid, Pan.Tests.Credentials.TestCredentials.OtherPassword, default);
            await using var transaction = await scope.ServiceProvider.GetRequiredService<Pan.Data.PanDbContext>().Database.BeginTransactionAsync();
            await maintenance.ChangePasswordAsync(member.Uid, prepared, default);
            await transaction.CommitAsync();
        }

        await ExpectDeadAsync(passes);
        await ExpectLiveAsync(await PassesAsync(await TestMembers.AccessTokenAsync(Server, member)));
    }

    [Fact]
    public async Task PasswordReset_EndsThePassesAtOnce_AndANewSignInGetsNewOnes()
    {
        var member = await TestMembers.CreateAsync(Server);
        var phone = await TestMembers.WithDbAsync(Server, db => Task.FromResult(db.Accounts.Single(a => a.Id == member.AccountId).PhoneE164!));
        var passes = await PassesAsync(await TestMembers.AccessTokenAsync(Server, member));
        await Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest { DisplayName = member.DisplayName, Phone = phone });
        var code = await PhoneFlows.Phones.NthCodeAsync(fixture.Inbox, phone, 1);
        var reset = await Client.AuthResetVerifyPhoneCodeAsync(new AuthResetVerifyPhoneCodeRequest { Code = code, Phone = phone, DisplayName = member.DisplayName });

        var password = Pan.Tests.Credentials.TestCredentials.OtherPassword;
        await Client.AuthResetUpdateAsync(new AuthResetUpdateRequest { AuthResetToken = reset.AuthResetToken, Password = password, ConfirmPassword = password });

        await ExpectDeadAsync(passes);
        await ExpectLiveAsync(await PassesAsync(await TestMembers.AccessTokenAsync(Server, member)));
    }

    /// <summary>A passport token and a QR code of the member behind <paramref name="accessToken"/>, both checked live.</summary>
    private async Task<(GetPassportTokenResponse Card, GetQRCodeResponse Qr)> PassesAsync(string accessToken)
    {
        var card = await Client.GetPassportTokenAsync(new GetPassportTokenRequest { AccessToken = accessToken });
        var qr = await Client.GetQRCodeAsync(new GetQRCodeRequest { PanAccessToken = accessToken });
        await ExpectLiveAsync((card, qr));
        return (card, qr);
    }

    private async Task ExpectLiveAsync((GetPassportTokenResponse Card, GetQRCodeResponse Qr) passes)
    {
        await Scanner.ValidatePassportTokenAsync(new ValidatePassportTokenRequest { PassportToken = passes.Card.PassportToken }, ScannerApp());
        await Client.ValidateQRCodeAsync(new ValidateQRCodeRequest { Uuid = passes.Qr.Uuid, Uid = passes.Qr.Uid, VerifyCode = passes.Qr.VerifyCode });
    }

    private async Task ExpectDeadAsync((GetPassportTokenResponse Card, GetQRCodeResponse Qr) passes)
    {
        await Errors.ExpectAsync(
            () => Scanner.ValidatePassportTokenAsync(new ValidatePassportTokenRequest { PassportToken = passes.Card.PassportToken }, ScannerApp()).ResponseAsync,
            StatusCode.NotFound, "PASSPORT_TOKEN_INVALID");
        await Errors.ExpectAsync(
            () => Client.ValidateQRCodeAsync(new ValidateQRCodeRequest { Uuid = passes.Qr.Uuid, Uid = passes.Qr.Uid, VerifyCode = passes.Qr.VerifyCode }).ResponseAsync,
            StatusCode.NotFound, "ValidateQRCodeResponse.Error__Failed");
    }

    [GeneratedRegex(@"^pan://member\?uuid=(?<uuid>[0-9a-f-]{36})&uid=(?<uid>\d+)&verify_code=(?<code>[A-Za-z0-9_-]{22})$")]
    private static partial Regex Payload();
}

public sealed class PassportBehaviour_Sqlite(SqliteExtrasFixture f) : PassportBehaviour<SqliteExtrasFixture>(f);

public sealed class PassportBehaviour_Postgres(PostgresExtrasFixture f) : PassportBehaviour<PostgresExtrasFixture>(f);
