using Grpc.Core;
using Microsoft.Extensions.Options;
using Pan.General.Member;
using Pan.Server.Avatars;
using Pan.Server.Errors;
using Pan.Server.Passport;
using Pan.Server.Session;
using Pan.Server.Tokens;
using QrError = Pan.General.Member.GetQRCodeResponse.Types.Error;
using ValidateQrError = Pan.General.Member.ValidateQRCodeResponse.Types.Error;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    /// <summary>
    /// The membership card: a passport token valid for <c>Pan:Passport:TokenSeconds</c>, never beyond the access token's
    /// expiry (128-bit random, stored hashed), also drawn as a QR code and a Code 128 barcode (base64 PNGs) that hold
    /// exactly the token. Each call replaces the member's previous token, which stops working at once. A bad access
    /// token: UNAUTHENTICATED (reason TOKEN_INVALID), also when its session ends while the token is being issued
    /// (<see cref="MemberPasses.IssueAsync"/>).
    /// </summary>
    public override async Task<GetPassportTokenResponse> GetPassportToken(GetPassportTokenRequest request, ServerCallContext context)
    {
        var caller = await CallerAsync(request.AccessToken, context);
        var lifetime = TimeSpan.FromSeconds(Resolve<IOptions<PassportOptions>>(context).Value.TokenSeconds);
        var (token, _) = await Resolve<MemberPasses>(context).IssueAsync(request.AccessToken, caller, PassKinds.Passport, lifetime, context.CancellationToken)
            ?? throw TokenInvalid();
        return new GetPassportTokenResponse
        {
            PassportToken = token,
            QrcodeBase64 = Convert.ToBase64String(QrImages.Png(token)),
            BarcodeBase64 = Convert.ToBase64String(Code128.Png(token)),
        };
    }

    /// <summary>
    /// For shop scanners, which authenticate as an app (<c>x-pan-app-id</c> / <c>x-pan-app-secret</c>; missing or wrong:
    /// UNAUTHENTICATED, reason APP_UNAUTHENTICATED). Returns the member a live passport token names, with the phone: the
    /// scanner is a registered app the member shows their card to. Empty token: INVALID_ARGUMENT naming passport_token;
    /// unknown, expired, replaced or of a deleted member: NOT_FOUND (reason PASSPORT_TOKEN_INVALID). The token may be
    /// checked several times within its lifetime.
    /// </summary>
    public override async Task<ValidatePassportTokenResponse> ValidatePassportToken(ValidatePassportTokenRequest request, ServerCallContext context)
    {
        var app = await ScannerAuth.RequireAppAsync(context.GetHttpContext(), Resolve<IAppAuthenticator>(context), context.CancellationToken);
        if (string.IsNullOrEmpty(request.PassportToken))
        {
            throw PanError.InvalidArgument("passport_token", "is required");
        }

        var member = await Resolve<MemberPasses>(context).FindPassportHolderAsync(request.PassportToken, context.CancellationToken)
            ?? throw PanError.Plain(StatusCode.NotFound, "PASSPORT_TOKEN_INVALID", "The passport token is unknown, expired or replaced by a newer one.");
        Resolve<ILogger<MemberServiceV2Endpoint>>(context).LogInformation("App {AppId} checked the passport of member {Uid}", app, member.Uid);
        return new ValidatePassportTokenResponse
        {
            Uuid = member.ObjectId.ToString("D"),
            Uid = member.Uid,
            Phone = member.Account?.PhoneE164 ?? string.Empty,
            DisplayName = member.DisplayName ?? string.Empty,
        };
    }

    /// <summary>
    /// The member's shareable "this is me" QR code: it encodes uuid, uid and a verify_code (see <see cref="QrPayload"/>)
    /// that another device checks with ValidateQRCode to know Pan issued it for that member. verify_code is 128-bit
    /// random, stored hashed, valid for <c>Pan:Passport:QrCodeSeconds</c> but never beyond the access token's expiry;
    /// each call replaces the previous one. A bad token (also one whose session ends while the code is being issued):
    /// UNAUTHENTICATED GetQRCodeResponse.Error__Failed.
    /// </summary>
    public override async Task<GetQRCodeResponse> GetQRCode(GetQRCodeRequest request, ServerCallContext context)
    {
        var caller = await Resolve<TokenService>(context).ValidateAccessTokenAsync(request.PanAccessToken, context.CancellationToken)
            ?? throw PanError.Of(QrError.Failed, StatusCode.Unauthenticated, "The pan_access_token is not valid.");
        var member = (await Resolve<MemberDirectory>(context).ReadAsync([caller.Uid], [], context.CancellationToken)).SingleOrDefault()
            ?? throw PanError.Of(QrError.Failed, StatusCode.Unauthenticated, "The pan_access_token is not valid.");
        var lifetime = TimeSpan.FromSeconds(Resolve<IOptions<PassportOptions>>(context).Value.QrCodeSeconds);
        var (code, _) = await Resolve<MemberPasses>(context).IssueAsync(request.PanAccessToken, caller, PassKinds.Qr, lifetime, context.CancellationToken)
            ?? throw PanError.Of(QrError.Failed, StatusCode.Unauthenticated, "The pan_access_token is not valid.");
        return new GetQRCodeResponse
        {
            ImageContent = Convert.ToBase64String(QrImages.Png(QrPayload.Text(member.ObjectId, member.Uid, code))),
            DisplayName = member.DisplayName ?? string.Empty,
            Uid = member.Uid,
            Avatar = Resolve<AvatarUrls>(context).For(member.AvatarKey),
            Uuid = member.ObjectId.ToString("D"),
            VerifyCode = code,
            PhoneId = Resolve<PhoneIds>(context).Encode(member.AccountId),
        };
    }

    /// <summary>
    /// Checks data scanned from a member's QR code: OK when verify_code is that member's current, unexpired code.
    /// uuid not a UUID, uid below 1 or verify_code empty: INVALID_ARGUMENT naming the field; anything else wrong
    /// (unknown member, deleted, mismatched uuid and uid, expired or replaced code): NOT_FOUND ValidateQRCodeResponse.Error__Failed.
    /// </summary>
    public override async Task<ValidateQRCodeResponse> ValidateQRCode(ValidateQRCodeRequest request, ServerCallContext context)
    {
        if (!Guid.TryParse(request.Uuid, out var objectId))
        {
            throw PanError.Of(ValidateQrError.Failed, StatusCode.InvalidArgument, "uuid is not a valid object id.", new FieldViolation("uuid", "is not a valid object id"));
        }

        if (request.Uid <= 0)
        {
            throw PanError.Of(ValidateQrError.Failed, StatusCode.InvalidArgument, "uid must be 1 or more.", new FieldViolation("uid", "must be 1 or more"));
        }

        if (string.IsNullOrEmpty(request.VerifyCode))
        {
            throw PanError.Of(ValidateQrError.Failed, StatusCode.InvalidArgument, "verify_code is required.", new FieldViolation("verify_code", "is required"));
        }

        return await Resolve<MemberPasses>(context).CheckQrAsync(request.Uid, objectId, request.VerifyCode, context.CancellationToken)
            ? new ValidateQRCodeResponse()
            : throw PanError.Of(ValidateQrError.Failed, StatusCode.NotFound, "The QR code is not valid or has expired.");
    }
}
