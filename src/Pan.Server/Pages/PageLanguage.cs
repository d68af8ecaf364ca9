using Pan.Server.Accounts;

namespace Pan.Server.Pages;

/// <summary>The language of a hosted page: <c>?lang=</c> (en, zh-TW; any zh-* reads as zh-TW) first, then Accept-Language, else English.</summary>
public static class PageLanguage
{
    public static string Of(HttpRequest request)
    {
        if (Pick(request.Query["lang"].ToString()) is { } chosen)
        {
            return chosen;
        }

        var preferred = request.GetTypedHeaders().AcceptLanguage
            .Where(l => l.Quality is not 0)
            .OrderByDescending(l => l.Quality ?? 1);
        foreach (var language in preferred)
        {
            if (Pick(language.Value.Value) is { } match)
            {
                return match;
            }
        }

        return Locales.English;
    }

    private static string? Pick(string? tag) =>
        string.IsNullOrEmpty(tag) ? null
        : tag.StartsWith("zh", StringComparison.OrdinalIgnoreCase) ? Locales.TraditionalChinese
        : tag.StartsWith("en", StringComparison.OrdinalIgnoreCase) ? Locales.English
        : null;
}
