using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using Pan.Data;
using Pan.Server.Audit;
using Pan.Server.Deletion;
using Pan.Server.Pages;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Pan.Server.OAuth;

/// <summary>
/// /account/apps: the apps the signed-in member has allowed (every valid authorization — a remembered consent, and each
/// code's grant, one per device the member signed in to the app on — grouped by app, so an app is listed once) with a
/// "remove access" button per app. Removing (POST, antiforgery) revokes the member's authorizations for that app (the
/// remembered consent and every grant) and every token of the member for the app, at once on every node: refresh
/// tokens stop working and introspection reports the access tokens inactive. The removal is one transaction, ordered
/// against /connect/authorize for the same member and app (<see cref="OAuthAppLock"/>): an authorization finishing
/// after it answers as if the removal came first, one finishing before it is ended by it.
/// </summary>
public static class MyAppsPage
{
    private const long MaxFormBytes = 8 * 1024;

    public static async Task<IResult> GetAsync(HttpContext context)
    {
        var language = PageLanguage.Of(context.Request);
        var text = OAuthPageText.For(language);
        var member = await context.RequestServices.GetRequiredService<OAuthMembers>().CurrentAsync(context);
        if (member is null)
        {
            return ConsentPage.SignIn(context, OAuthPaths.AppsPage);
        }

        var authorizations = context.RequestServices.GetRequiredService<IOpenIddictAuthorizationManager>();
        var clients = context.RequestServices.GetRequiredService<OAuthClients>();
        var granted = new Dictionary<string, (OAuthClient Client, HashSet<string> Scopes, DateTimeOffset? Since)>(StringComparer.Ordinal);
        await foreach (var authorization in authorizations.FindBySubjectAsync(OAuthMembers.Subject(member.ObjectId), context.RequestAborted))
        {
            if (!await authorizations.HasStatusAsync(authorization, Statuses.Valid, context.RequestAborted)
                || await authorizations.GetApplicationIdAsync(authorization, context.RequestAborted) is not { } appId)
            {
                continue;
            }

            if (!granted.TryGetValue(appId, out var entry))
            {
                if (await clients.FindByIdAsync(appId, context.RequestAborted) is not { } client)
                {
                    continue;
                }

                entry = (client, new HashSet<string>(StringComparer.Ordinal), null);
            }

            entry.Scopes.UnionWith(await authorizations.GetScopesAsync(authorization, context.RequestAborted));
            var created = await authorizations.GetCreationDateAsync(authorization, context.RequestAborted);
            granted[appId] = (entry.Client, entry.Scopes, entry.Since is null || created < entry.Since ? created : entry.Since);
        }

        var tokens = OAuthMembers.FormTokens(context, member);
        var html = new StringBuilder();
        if (context.Request.Query["revoked"] == "1")
        {
            html.Append("<p>").Append(HtmlPage.E(text.Revoked)).Append("</p>");
        }

        if (granted.Count == 0)
        {
            html.Append("<p>").Append(HtmlPage.E(text.NoApps)).Append("</p>");
        }

        foreach (var (client, scopes, since) in granted.Values.OrderBy(g => g.Client.Name, StringComparer.CurrentCulture))
        {
            html.Append("<section><h2>").Append(HtmlPage.E(client.Name)).Append("</h2><ul>");
            foreach (var line in OAuthScopes.Describe(scopes.Order(StringComparer.Ordinal), language))
            {
                html.Append("<li>").Append(HtmlPage.E(line)).Append("</li>");
            }

            html.Append("</ul>");
            if (since is { } date)
            {
                html.Append("<p>").Append(HtmlPage.E(text.Since)).Append(' ').Append(HtmlPage.E(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))).Append("</p>");
            }

            html.Append("<form method=\"post\" action=\"apps?lang=").Append(HtmlPage.E(Uri.EscapeDataString(language))).Append("\">")
                .Append("<input type=\"hidden\" name=\"").Append(HtmlPage.E(tokens.FormFieldName)).Append("\" value=\"").Append(HtmlPage.E(tokens.RequestToken)).Append("\">")
                .Append("<input type=\"hidden\" name=\"client_id\" value=\"").Append(HtmlPage.E(client.ClientId)).Append("\">")
                .Append("<button type=\"submit\">").Append(HtmlPage.E(text.Revoke)).Append("</button></form></section>");
        }

        return HtmlPage.Render(context, language, text.AppsTitle, html.ToString());
    }

    public static async Task<IResult> PostAsync(HttpContext context)
    {
        var language = PageLanguage.Of(context.Request);
        var text = OAuthPageText.For(language);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxFormBytes;
        }

        if (!context.Request.HasFormContentType)
        {
            return HtmlPage.Render(context, language, text.AppsTitle, ConsentPage.Error(text.FormExpired), StatusCodes.Status400BadRequest);
        }

        // Why the member first: the form token is bound to the member it was issued to (OAuthMembers.IsFormValidAsync).
        var member = await context.RequestServices.GetRequiredService<OAuthMembers>().CurrentAsync(context);
        if (member is null)
        {
            return ConsentPage.SignIn(context, OAuthPaths.AppsPage);
        }

        if (!await OAuthMembers.IsFormValidAsync(context, member))
        {
            return HtmlPage.Render(context, language, text.AppsTitle, ConsentPage.Error(text.FormExpired), StatusCodes.Status400BadRequest);
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var client = await context.RequestServices.GetRequiredService<OAuthClients>().FindAsync(form["client_id"].ToString(), context.RequestAborted);
        if (client is not null)
        {
            var db = context.RequestServices.GetRequiredService<PanDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync(context.RequestAborted);
            if (!await LiveMembers.HoldAsync(db, member.Uid, context.RequestAborted))
            {
                return ConsentPage.SignIn(context, OAuthPaths.AppsPage);
            }

            var subject = OAuthMembers.Subject(member.ObjectId);
            await OAuthAppLock.HoldAsync(db, subject, client.Id, context.RequestAborted);
            // Why not the managers' RevokeAsync: it keeps each entry's concurrency token, so an OpenIddict update in flight
            // that read the entry before (a refresh redeeming its token) wrote "redeemed" over "revoked" and issued tokens
            // after the removal; with a new one that update fails and the refresh is refused (OAuthGrantRevocation).
            var stamp = Guid.NewGuid().ToString();
            await db.Set<OpenIddictEntityFrameworkCoreAuthorization>()
                .Where(a => a.Subject == subject && a.Application!.Id == client.Id && a.Status != Statuses.Revoked)
                .ExecuteUpdateAsync(u => u.SetProperty(a => a.Status, Statuses.Revoked).SetProperty(a => a.ConcurrencyToken, stamp), context.RequestAborted);
            await db.Set<OpenIddictEntityFrameworkCoreToken>()
                .Where(t => t.Subject == subject && t.Application!.Id == client.Id && t.Status != Statuses.Revoked)
                .ExecuteUpdateAsync(u => u.SetProperty(t => t.Status, Statuses.Revoked).SetProperty(t => t.ConcurrencyToken, stamp), context.RequestAborted);
            await context.RequestServices.GetRequiredService<AuditLog>().WriteAsync(
                "member:" + member.Uid.ToString(CultureInfo.InvariantCulture), "oauth.revoke-app", "client:" + client.ClientId, "ok", context.RequestAborted);
            await transaction.CommitAsync(context.RequestAborted);
        }

        return Results.Redirect($"apps?lang={Uri.EscapeDataString(language)}&revoked=1");
    }
}
