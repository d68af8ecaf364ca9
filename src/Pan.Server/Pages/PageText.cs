using Pan.Server.Accounts;

namespace Pan.Server.Pages;

/// <summary>Every sentence of the hosted pages, in English and Traditional Chinese.</summary>
public sealed record PageText(
    string VerifyTitle,
    string Verified,
    string VerifyFailed,
    string VerifyTaken,
    string Continue,
    string ResetTitle,
    string NewPassword,
    string ConfirmPassword,
    string SecurityQuestion,
    string Answer,
    string Submit,
    string ResetDoneTitle,
    string ResetDone,
    string LinkDeadTitle,
    string LinkDead,
    string PasswordRequired,
    string Mismatch,
    string PasswordRule,
    string AnswerWrong,
    string FormExpired)
{
    public static PageText For(string language) => language == Locales.TraditionalChinese ? Chinese : English;

    private static readonly PageText English = new(
        VerifyTitle: "Email confirmed",
        Verified: "Your email address is confirmed. You can close this page.",
        VerifyFailed: "This link has expired or was already used. Ask the app for a new verification email.",
        VerifyTaken: "Another member has already verified this email address, so it cannot be verified for you.",
        Continue: "Continue",
        ResetTitle: "Choose a new password",
        NewPassword: "New password",
        ConfirmPassword: "Repeat the new password",
        SecurityQuestion: "Security question",
        Answer: "Your answer",
        Submit: "Set the password",
        ResetDoneTitle: "Password reset",
        ResetDone: "Your password has been reset. Every device was signed out; sign in again with the new password.",
        LinkDeadTitle: "Link expired",
        LinkDead: "This reset link has expired or was already used. Start the password reset again.",
        PasswordRequired: "Enter a new password.",
        Mismatch: "The two passwords differ.",
        PasswordRule: "This password is not accepted: {0}",
        AnswerWrong: "The answer to the security question is missing or wrong.",
        FormExpired: "The form has expired. Open the link from the email again.");

    private static readonly PageText Chinese = new(
        VerifyTitle: "電子郵件已確認",
        Verified: "您的電子郵件地址已確認，可以關閉此頁面。",
        VerifyFailed: "此連結已失效或已使用過。請在應用程式中重新寄送驗證信。",
        VerifyTaken: "此電子郵件地址已由其他會員驗證，無法再為您驗證。",
        Continue: "繼續",
        ResetTitle: "設定新密碼",
        NewPassword: "新密碼",
        ConfirmPassword: "再次輸入新密碼",
        SecurityQuestion: "安全提問",
        Answer: "您的答案",
        Submit: "設定密碼",
        ResetDoneTitle: "密碼已重設",
        ResetDone: "您的密碼已重設，所有裝置皆已登出，請使用新密碼重新登入。",
        LinkDeadTitle: "連結已失效",
        LinkDead: "此重設連結已失效或已使用過，請重新申請重設密碼。",
        PasswordRequired: "請輸入新密碼。",
        Mismatch: "兩次輸入的密碼不一致。",
        PasswordRule: "此密碼不符合規則：{0}",
        AnswerWrong: "安全提問的答案未填寫或不正確。",
        FormExpired: "表單已逾時，請重新開啟信中的連結。");
}
