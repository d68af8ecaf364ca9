using Pan.Data;

namespace Pan.Server.OAuth;

/// <summary>
/// Runs every POST /connect/token (the code exchange and the refresh grant), every POST /connect/revoke and every
/// /connect/authorize (over HTTP or through <see cref="OAuthPipeline"/>) in one database transaction (SECURITY 21).
/// The code or refresh token is redeemed (<see cref="OAuthGrantRevocation"/>) and OpenIddict stores the new access and
/// refresh token entries with separate saves; on its own, a failure half-way left the code redeemed and a stray access-token entry behind, and the
/// client's retry was then a replay (which revokes the whole grant). At /connect/authorize, Pan uses up the decided
/// consent request and stores the remembered authorization, then OpenIddict stores the code's own authorization and its entry, again in
/// separate saves: a failure of the last left a spent consent request and an authorization without a code, and the member had
/// to start over. At /connect/revoke, OpenIddict revokes the refresh token and Pan then the other tokens of its grant and the grant
/// (<see cref="OAuthGrantRevocation"/>): on their own, a failure after the first left the refresh token revoked and
/// the grant's access tokens active, and the app's retry found the token already revoked and ended nothing more. What
/// OpenIddict writes while refusing a request (a replay revoking the grant) commits like a success.
/// </summary>
/// <remarks>
/// Why the response is held until the commit: a client that already holds the tokens (or the code in a redirect) could
/// use them on another connection before their entries are visible, and must never get a code or tokens whose entries
/// a failed commit dropped. The redirect's headers are not sent before the commit either: the held body keeps the
/// response from starting. Token responses and authorize redirects are small. OpenIddict's EF Core stores use the
/// request's scoped <see cref="PanDbContext"/>, so they join this transaction; the signing keys are loaded at start-up
/// (<see cref="OAuthKeyRing"/>), so no write on another connection waits for it.
/// </remarks>
public static class TokenTransaction
{
    public static IApplicationBuilder UsePanTokenTransaction(this IApplicationBuilder app) =>
        app.UseWhen(IsGrantRequest, branch => branch.Use(RunAsync));

    private static bool IsGrantRequest(HttpContext context) =>
        (HttpMethods.IsPost(context.Request.Method) && (context.Request.Path == "/" + OAuthPaths.Token || context.Request.Path == "/" + OAuthPaths.Revoke))
        || ((HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsPost(context.Request.Method)) && context.Request.Path == "/" + OAuthPaths.Authorize);

    private static async Task RunAsync(HttpContext context, RequestDelegate next)
    {
        var db = context.RequestServices.GetRequiredService<PanDbContext>();
        var original = context.Response.Body;
        await using var held = new MemoryStream();
        context.Response.Body = held;
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(context.RequestAborted);
            await next(context);
            await transaction.CommitAsync(context.RequestAborted);
        }
        finally
        {
            context.Response.Body = original;
        }

        held.Position = 0;
        await held.CopyToAsync(original, context.RequestAborted);
    }
}
