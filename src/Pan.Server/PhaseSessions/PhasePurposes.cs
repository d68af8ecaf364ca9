namespace Pan.Server.PhaseSessions;

/// <summary>The flows a phase session can belong to. A token of one flow is never accepted by another.</summary>
public static class PhasePurposes
{
    public const string Register = "register";
    public const string Login = "login";
    public const string ValidatePhone = "validate-phone";
    public const string ValidatePhoneV2 = "validate-phone-v2";

    /// <summary>Step-up by SMS for an operation (suffix: the verify-token purpose, e.g. verify:switch-member).</summary>
    public static string Verify(string operation) => "verify:" + operation;
}
