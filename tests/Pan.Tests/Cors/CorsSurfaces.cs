namespace Pan.Tests.Cors;

/// <summary>Paths of the surfaces a browser app calls, and of those it must not be able to read cross-origin.</summary>
public static class CorsSurfaces
{
    public const string ValidateName = "/pan.general.member.MemberServiceV2/ValidateDisplayNameV2";

    public static TheoryData<string> Browser() =>
    [
        ValidateName,
        "/gapi" + ValidateName,
        "/pan.general.member.dangerous.Command/DeleteMember",
        "/gapi/pan.oauth.App/GetAccessToken",
        "/v2/member/validate-display-name-v2",
        "/v2/member/dangerous/delete-member",
        "/v1/oauth/app/get-access-token",
        "/api/v3/verification/email_existed",
        "/admin/user/accNameOk",
        "/.well-known/openid-configuration",
        "/.well-known/jwks",
        "/connect/token",
        "/connect/userinfo",
        "/connect/revoke",
    ];

    public static TheoryData<string> Other() =>
    [
        "/account/sign-in",
        "/account/consent",
        "/account/apps",
        "/connect/authorize",
        "/connect/endsession",
        "/connect/introspect",
        "/pan.general.admin.AdminService/GoogleLogin",
        "/gapi/pan.general.admin.AdminService/GoogleLogin",
        "/v1/admin/google-login",
        "/pan.lever.member.MemberService/AuthToken",
        "/v1/lever/member/auth-token",
        "/pan.oauth.ConsentProcess/Do",
        "/v1/oauth/consent/do",
        "/grpc.health.v1.Health/Check",
        "/healthz",
        "/openapi/v1.json",
        "/pan.general.member.MemberServiceV2Extra/Me",
    ];
}
