using OpenIddict.Abstractions;
using Pan.Server.Accounts;

namespace Pan.Server.OAuth;

/// <summary>A scope a client may ask for, with what the consent screen says it grants.</summary>
public sealed record OAuthScope(string Name, string English, string Chinese)
{
    public string Describe(string language) => language == Locales.TraditionalChinese ? Chinese : English;
}

/// <summary>The scopes Pan's provider knows. A client may only be registered with, and only ask for, these.</summary>
public static class OAuthScopes
{
    public static readonly IReadOnlyList<OAuthScope> All =
    [
        new(OpenIddictConstants.Scopes.OpenId, "Sign you in with your Pan member ID", "使用您的 Pan 會員身分登入"),
        new(OpenIddictConstants.Scopes.Profile, "See your display name and avatar", "查看您的顯示名稱與大頭貼"),
        new(OpenIddictConstants.Scopes.Email, "See your email address", "查看您的電子郵件地址"),
        new(OpenIddictConstants.Scopes.Phone, "See your phone number", "查看您的手機號碼"),
        new(OpenIddictConstants.Scopes.OfflineAccess, "Keep access while you are not using the app", "在您未使用此應用程式時維持存取權"),
    ];

    private static readonly Dictionary<string, OAuthScope> ByName = All.ToDictionary(s => s.Name, StringComparer.Ordinal);

    public static bool IsKnown(string name) => ByName.ContainsKey(name);

    /// <summary>The consent screen's lines for <paramref name="scopes"/> (unknown names are shown as they are).</summary>
    public static IReadOnlyList<string> Describe(IEnumerable<string> scopes, string language) =>
        [.. scopes.Select(s => ByName.TryGetValue(s, out var scope) ? scope.Describe(language) : s)];

    public static string[] Names => [.. All.Select(s => s.Name)];
}
