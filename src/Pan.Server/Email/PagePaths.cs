namespace Pan.Server.Email;

/// <summary>The paths of Pan's hosted account pages (under <c>Pan:Links:PublicBaseUrl</c>).</summary>
public static class PagePaths
{
    public const string VerifyEmail = "/account/verify-email";
    public const string ResetPassword = "/account/reset-password";
}
