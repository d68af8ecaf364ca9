namespace Pan.Server.Accounts;

/// <summary>The two languages Pan writes to members in.</summary>
public static class Locales
{
    public const string English = "en";
    public const string TraditionalChinese = "zh-TW";

    /// <summary>Traditional Chinese for Taiwan, Hong Kong and Macau numbers; English elsewhere.</summary>
    public static string ForCountry(int callingCode) => callingCode is 886 or 852 or 853 ? TraditionalChinese : English;
}
