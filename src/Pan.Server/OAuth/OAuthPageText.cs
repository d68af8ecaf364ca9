using Pan.Server.Accounts;

namespace Pan.Server.OAuth;

/// <summary>Every sentence of the consent, "my apps" and sign-out question pages, in English and Traditional Chinese.</summary>
public sealed record OAuthPageText(
    string ConsentTitle,
    string Wants,
    string Privacy,
    string Terms,
    string Remember,
    string AsksEachTime,
    string Approve,
    string Reject,
    string RequestGone,
    string FormExpired,
    string AppsTitle,
    string NoApps,
    string Revoke,
    string Revoked,
    string Since,
    string SignOutTitle,
    string SignOutQuestion,
    string SignOut)
{
    public static OAuthPageText For(string language) => language == Locales.TraditionalChinese ? Chinese : English;

    private static readonly OAuthPageText English = new(
        ConsentTitle: "Allow access?",
        Wants: "wants to:",
        Privacy: "Privacy policy",
        Terms: "Terms of service",
        Remember: "Remember my decision for this app",
        AsksEachTime: "For your safety Pan asks you each time this app signs in: another app on your device could pose as it.",
        Approve: "Allow",
        Reject: "Deny",
        RequestGone: "This request has expired or was already answered. Go back to the app and sign in again.",
        FormExpired: "The form has expired. Go back to the app and sign in again.",
        AppsTitle: "Apps you allowed",
        NoApps: "You have not allowed any app to use your Pan member ID.",
        Revoke: "Remove access",
        Revoked: "Access removed. The app can no longer use your account until you allow it again.",
        Since: "Allowed on",
        SignOutTitle: "Sign out?",
        SignOutQuestion: "An app asked to sign you out of Pan. Sign out now?",
        SignOut: "Sign out");

    private static readonly OAuthPageText Chinese = new(
        ConsentTitle: "要允許存取嗎？",
        Wants: "要求以下權限：",
        Privacy: "隱私權政策",
        Terms: "服務條款",
        Remember: "記住我對此應用程式的選擇",
        AsksEachTime: "為了您的安全，此應用程式每次登入時 Pan 都會詢問您：您裝置上的其他應用程式可能冒充它。",
        Approve: "允許",
        Reject: "拒絕",
        RequestGone: "此請求已逾時或已回覆。請回到應用程式重新登入。",
        FormExpired: "表單已逾時，請回到應用程式重新登入。",
        AppsTitle: "您已授權的應用程式",
        NoApps: "您尚未授權任何應用程式使用您的 Pan 會員身分。",
        Revoke: "移除存取權",
        Revoked: "已移除存取權。在您再次允許之前，此應用程式無法使用您的帳號。",
        Since: "授權日期",
        SignOutTitle: "要登出嗎？",
        SignOutQuestion: "有應用程式要求將您登出 Pan。現在登出嗎？",
        SignOut: "登出");
}
