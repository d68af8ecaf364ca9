using System.Text.Json;
using Pan.Server.Pages;
using Pan.Server.Pages.SignIn;

namespace Pan.Server.Errors;

/// <summary>
/// The HTTP side of <see cref="ErrorInterceptor"/>'s UNAVAILABLE: a request to a hosted page or an HTTP endpoint (the
/// OAuth provider's, the member extras) that failed because the database or another dependency could not be reached
/// (<see cref="ErrorInterceptor.IsOutage"/>) is answered 503, never a bare 500: the pages under <c>/account/</c> and the
/// browser's OAuth endpoints with the pages' "unavailable" sentence, the others with an OAuth-style JSON error
/// (<c>temporarily_unavailable</c>). Nothing the request did is kept: its transaction was never committed.
/// </summary>
/// <remarks>
/// Why one middleware: each page handler would otherwise need its own catch, and a handler without one (sign-out, the
/// member chooser, the reset and verify-email pages, consent) answered 500 with the failure logged as a crash. gRPC calls
/// never reach this catch (the interceptor answers them); the apinode and Omniauth endpoints answer their own envelopes.
/// A response already started cannot be changed and is left to fail.
/// </remarks>
public sealed class OutageAnswers(RequestDelegate next, ILogger<OutageAnswers> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (ErrorInterceptor.IsOutage(ex) && !context.Response.HasStarted)
        {
            logger.LogWarning(ex, "Dependency unavailable during an HTTP request");
            context.Response.Clear();
            if (IsPage(context.Request.Path))
            {
                var language = PageLanguage.Of(context.Request);
                var text = SignInText.For(language);
                await HtmlPage.Render(context, language, text.Unavailable, $"<p class=\"error\">{HtmlPage.E(text.Unavailable)}</p>", StatusCodes.Status503ServiceUnavailable)
                    .ExecuteAsync(context);
                return;
            }

            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.CacheControl = "no-store";
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["error"] = "temporarily_unavailable",
                ["error_description"] = "A backing service is unavailable; try again shortly.",
            }));
        }
    }

    /// <summary>The pages a browser shows: everything under /account/, and the OAuth endpoints a browser is sent to.</summary>
    private static bool IsPage(PathString path) =>
        path.StartsWithSegments("/account")
        || path.StartsWithSegments("/" + OAuth.OAuthPaths.Authorize)
        || path.StartsWithSegments("/" + OAuth.OAuthPaths.EndSession);
}
