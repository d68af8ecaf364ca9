using Pan.Server.OAuth;

namespace Pan.Server.Transport;

/// <summary>
/// Reads the form of a POST to the OAuth provider's endpoints (<c>/connect/*</c>) or a hosted page (<c>/account/*</c>)
/// before anything else does, and answers 400 when ASP.NET Core's form reader refuses it (a value with NUL, a multipart
/// body without a boundary, with a malformed part or ending before its closing boundary): OAuth's
/// <c>invalid_request</c> at the provider's endpoints, a plain 400 at the pages. The form is kept on the request, so
/// OpenIddict, antiforgery and the pages read it from there. A query string with a NUL is <c>invalid_request</c> at the
/// provider's endpoints too, whatever the method.
/// </summary>
/// <remarks>
/// Why a middleware: the reader throws <see cref="InvalidDataException"/> (<see cref="IOException"/> for a multipart
/// body cut short) wherever the form is first read, and at these paths that is inside OpenIddict or the antiforgery
/// check, where Pan cannot catch it; uncaught, it was a 500 (SECURITY 17). The Omniauth and apinode endpoints read
/// their own bodies under their own size limits and are not touched.
/// </remarks>
public static class FormBodyGuard
{
    public static IApplicationBuilder UsePanFormBodyGuard(this IApplicationBuilder app) =>
        app.UseWhen(IsGuarded, branch => branch.Use(GuardAsync));

    // Why the paths first: every gRPC call passes here, and two path comparisons cost less than parsing its content type.
    private static bool IsGuarded(HttpContext context) =>
        (OAuthPaths.IsProviderRequest(context.Request.Path) && HasNul(context.Request.QueryString))
        || ((OAuthPaths.IsProviderRequest(context.Request.Path) || context.Request.Path.StartsWithSegments("/account", StringComparison.OrdinalIgnoreCase))
            && HttpMethods.IsPost(context.Request.Method)
            && context.Request.HasFormContentType);

    /// <summary>
    /// Whether the query string holds a NUL (<c>%00</c>; a raw NUL never gets past Kestrel). Why refused at the
    /// provider's endpoints: OpenIddict looks its parameters up in the database (client_id, scope), and PostgreSQL
    /// refuses a NUL in text, which was a 500; the form reader refuses a NUL in a form body just the same.
    /// </summary>
    private static bool HasNul(QueryString query) => query.Value?.Contains("%00", StringComparison.Ordinal) == true;

    private static async Task GuardAsync(HttpContext context, RequestDelegate next)
    {
        if (OAuthPaths.IsProviderRequest(context.Request.Path) && HasNul(context.Request.QueryString))
        {
            await RefuseAsync(context, "The query string holds a NUL character.");
            return;
        }

        if (!HttpMethods.IsPost(context.Request.Method) || !context.Request.HasFormContentType)
        {
            await next(context);
            return;
        }

        try
        {
            await context.Request.ReadFormAsync(context.RequestAborted);
        }
        // Why not BadHttpRequestException (an IOException too): Kestrel answers it itself, with its own status (413, 400).
        catch (Exception ex) when (ex is InvalidDataException or (IOException and not BadHttpRequestException))
        {
            if (context.RequestAborted.IsCancellationRequested)
            {
                // Why: the client went away; there is no one to answer.
                return;
            }

            await RefuseAsync(context, "The request body is not a readable form.");
            return;
        }

        await next(context);
    }

    /// <summary>OAuth's <c>invalid_request</c> at the provider's endpoints, a plain 400 at the pages.</summary>
    private static async Task RefuseAsync(HttpContext context, string description)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.Headers.CacheControl = "no-store";
        if (OAuthPaths.IsProviderRequest(context.Request.Path))
        {
            await context.Response.WriteAsJsonAsync(
                new Dictionary<string, string> { ["error"] = "invalid_request", ["error_description"] = description }, context.RequestAborted);
        }
        else
        {
            await context.Response.WriteAsync("The form could not be read.", context.RequestAborted);
        }
    }
}
