namespace Pan.Server.Email;

public static partial class EmailTemplates
{
    private static readonly Common EnglishCommon = new(
        "Hi {0},", "there", "Your code:", "Or enter the code on this page:", "The code and the link expire in {0} minutes and work once.");

    private static readonly Common ChineseCommon = new(
        "{0} 您好：", "會員", "您的驗證碼：", "或在此頁面輸入驗證碼：", "驗證碼與連結將於 {0} 分鐘後失效，且只能使用一次。");

    private const string EnglishIgnore = "If you did not ask for this, ignore this email; nothing changes. Never share the code with anyone, including Pan staff.";

    private const string ChineseIgnore = "若這不是您本人的操作，請忽略本信，帳號不會有任何變更。請勿將驗證碼告訴任何人（包括 Pan 的工作人員）。";

    private const string EnglishAlarm = "If this was not you, reset your password at once and contact support.";

    private const string ChineseAlarm = "若這不是您本人的操作，請立即重設密碼並聯絡客服。";

    private static Wording English(EmailKind kind) => kind switch
    {
        EmailKind.VerifyEmail => new("Confirm your email address",
            "Confirm that this address belongs to your Pan account by entering the code below or opening the link.", "Confirm my email", EnglishIgnore),
        EmailKind.ResetPassword => new("Reset your Pan password",
            "Someone (hopefully you) asked to reset the password of your Pan account. Enter the code below or open the link to choose a new password.",
            "Choose a new password", EnglishIgnore),
        EmailKind.LoginCode => new("Your Pan sign-in code", "Use this code to sign in to Pan.", null, EnglishIgnore),
        EmailKind.PasswordChanged => new("Your Pan password was changed",
            "The password of your Pan account was just changed. Other devices have been signed out.", null, EnglishAlarm),
        EmailKind.PasswordReset => new("Your Pan password was reset",
            "The password of your Pan account was just reset through account recovery. Every device has been signed out.", null, EnglishAlarm),
        EmailKind.EmailChanged => new("Your Pan email address was changed",
            "The email address of your Pan account was just changed; this address will no longer receive messages about the account.", null, EnglishAlarm),
        EmailKind.ActivateAccount => new("Activate your Pan account",
            "Your account is almost ready. Open the link below to confirm this email address and activate the account; then sign in with your password.",
            "Activate my account", EnglishIgnore),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown email kind."),
    };

    private static Wording Chinese(EmailKind kind) => kind switch
    {
        EmailKind.VerifyEmail => new("確認您的電子郵件地址",
            "請輸入下方驗證碼或開啟連結，確認此電子郵件地址屬於您的 Pan 帳號。", "確認我的電子郵件", ChineseIgnore),
        EmailKind.ResetPassword => new("重設您的 Pan 密碼",
            "我們收到重設您 Pan 帳號密碼的請求。請輸入下方驗證碼或開啟連結以設定新密碼。", "設定新密碼", ChineseIgnore),
        EmailKind.LoginCode => new("您的 Pan 登入驗證碼", "請使用此驗證碼登入 Pan。", null, ChineseIgnore),
        EmailKind.PasswordChanged => new("您的 Pan 密碼已變更",
            "您的 Pan 帳號密碼剛剛已變更，其他裝置已登出。", null, ChineseAlarm),
        EmailKind.PasswordReset => new("您的 Pan 密碼已重設",
            "您的 Pan 帳號密碼剛剛已透過帳號救援重設，所有裝置皆已登出。", null, ChineseAlarm),
        EmailKind.EmailChanged => new("您的 Pan 電子郵件地址已變更",
            "您的 Pan 帳號電子郵件地址剛剛已變更，此地址將不再收到此帳號的通知。", null, ChineseAlarm),
        EmailKind.ActivateAccount => new("啟用您的 Pan 帳號",
            "您的帳號即將完成設定。請開啟下方連結以確認此電子郵件地址並啟用帳號，之後即可使用密碼登入。",
            "啟用我的帳號", ChineseIgnore),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown email kind."),
    };
}
