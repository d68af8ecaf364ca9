using System.Collections.Immutable;
using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using Pan.Data;
using Pan.Data.Members;
using Pan.Server.Deletion;
using Pan.Server.Links;
using Pan.Server.Pages.SignIn;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Pan.Server.OAuth;

/// <summary>
/// /connect/authorize after OpenIddict has validated the request (client, exact redirect URI, response_type=code,
/// PKCE S256, registered scopes). Then: no member → the sign-in page (returning here); prompt=login, a sign-in older
/// than max_age, or an id_token_hint naming another member → the sign-in form again (login_required with prompt=none); a scope the client may not ask for →
/// invalid_scope; consent remembered for the member and client covering the scopes (confidential or https-only clients,
/// <see cref="OAuthClient.IdentityAssured"/>), or a client with implicit consent → the code at once; otherwise a pending consent request and the consent page. A request carrying
/// <c>pan_consent</c> finishes a decided consent request: the code, or access_denied. The gRPC ConsentProcess
/// service runs this same handler in-process (<see cref="OAuthPipeline"/>).
/// </summary>
public static class AuthorizeEndpoint
{
    public static async Task<IResult> HandleAsync(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("The OpenID Connect request cannot be retrieved.");
        var services = context.RequestServices;
        var cancellationToken = context.RequestAborted;
        var members = services.GetRequiredService<OAuthMembers>();
        var signedIn = await members.CurrentAsync(context);
        if (signedIn is null || await members.FindAsync(signedIn.Uid, cancellationToken) is not { } member)
        {
            return NotSignedIn(context, request);
        }

        // Why not for in-process requests: the gRPC caller proved the member with a Pan access token and has no browser
        // to sign in again with (ConsentProcess.Do carries neither prompt nor max_age).
        var inProcess = OAuthPipeline.MemberOf(context) is not null;
        var signedInAt = inProcess ? null : await OAuthMembers.SignedInAtAsync(context);
        if (!inProcess && (await HintsAnotherMemberAsync(context, member)
                           || MustSignInAgain(request, signedInAt, services.GetRequiredService<TimeProvider>().GetUtcNow())))
        {
            return request.HasPromptValue(PromptValues.None)
                ? Forbid(OpenIddictConstants.Errors.LoginRequired, "The member must sign in again.")
                : Results.Redirect(SignInUrl(context, request, again: true));
        }

        var client = await services.GetRequiredService<OAuthClients>().FindAsync(request.ClientId, cancellationToken)
            ?? throw new InvalidOperationException("OpenIddict let an unknown client through.");
        var requested = request.GetScopes();
        if (requested.FirstOrDefault(s => !client.Scopes.Contains(s)) is { } refused)
        {
            return Forbid(OpenIddictConstants.Errors.InvalidScope, $"The client is not allowed to ask for the scope '{refused}'.");
        }

        // Why the member's row lock here, first in the request's transaction (TokenTransaction): every branch below but
        // consent_required writes for the member — the used-up consent request, a remembered consent (permanent
        // authorization), the code's entry and its ad-hoc authorization, a new consent request. Without it a deletion
        // committing meanwhile would miss them (SECURITY 12): a remembered consent naming the deleted member would stay for
        // good (the janitor prunes only revoked, expired and ad-hoc entries), the code's entries for weeks (OAuthJanitor). With it the deletion either
        // commits first, and this answers as for a member who is not signed in and writes nothing, or waits for this
        // commit and erases what was written. Why before the branches, not in each: it must come before the consent
        // request's update (a row the deletion locks too, see LiveMembers), and one lock is simpler. Why a share lock
        // (HoldAsync), not LockAsync's row update: authorize writes nothing to the member, and an update would make every
        // node read the member's cached tokens and public view again after each authorization.
        var db = services.GetRequiredService<PanDbContext>();
        if (!await LiveMembers.HoldAsync(db, signedIn.Uid, cancellationToken))
        {
            return NotSignedIn(context, request);
        }

        // Why the session held and the member read again, under the member's row: the session and the member were read
        // before it, and a suspension (or a password change, a logout) that commits meanwhile ends that session; on
        // PostgreSQL this waited for it at the row and would still issue a code (and store a remembered consent) for a
        // member suspended first. Held, either that change commits first and this answers as for a member whose session
        // ended, writing nothing, or it waits for this commit and then ends what was written
        // (OAuthHttpBehaviour.Authorize_WhileTheMembersSuspensionIsUncommitted_IssuesNoCode_AndWritesNothing).
        if (!await LiveMembers.HoldRowAsync(db, "auth_sessions", "id", signedIn.SessionId, "revoked", nameof(AuthorizeEndpoint), cancellationToken)
            || await members.FindAsync(signedIn.Uid, cancellationToken) is not { } current
            || Suspension.MemberSuspensions.IsSuspended(current, services.GetRequiredService<TimeProvider>().GetUtcNow()))
        {
            return NotSignedIn(context, request);
        }

        member = current;

        // Why next: a removal of the app at "my apps" committing while this request read the remembered consent and
        // stored it made the update write over the removal — the consent it had revoked came back valid, with the scopes
        // the member had removed — and a code issued on a consent read just before the removal outlived it. Now this
        // request runs wholly before or wholly after a removal (OAuthAppLock).
        await OAuthAppLock.HoldAsync(db, OAuthMembers.Subject(member.ObjectId), client.Id, cancellationToken);

        var consents = services.GetRequiredService<ConsentRequests>();
        if ((string?)request[OAuthPaths.ConsentParameter] is { Length: > 0 } consentId)
        {
            var decision = await consents.ConsumeAsync(consentId, signedIn.Uid, request, cancellationToken);
            if (decision is null)
            {
                return Forbid(OpenIddictConstants.Errors.InvalidRequest, "The consent request is unknown, expired, already used or was made for another request.");
            }

            CountConsent(context, db, decision.Approved ? "approved" : "denied", inProcess);
            // Why remember only for an assured client: see OAuthClient.IdentityAssured (the screen offers no "remember" then).
            return decision.Approved
                ? await SignInAsync(context, member, client, [.. requested.Where(decision.GrantedScopes.Contains)], decision.Remember && client.IdentityAssured, signedInAt)
                : Forbid(OpenIddictConstants.Errors.AccessDenied, "The member refused the authorization.");
        }

        // Why only for an assured client: any app on the device can claim a public client's custom scheme or loopback port
        // and run its own flow; a remembered consent must not give it a code with no screen (OAuthClient.IdentityAssured).
        var remembered = false;
        if (client.IdentityAssured)
        {
            await foreach (var _ in services.GetRequiredService<IOpenIddictAuthorizationManager>().FindAsync(
                OAuthMembers.Subject(member.ObjectId), client.Id, Statuses.Valid, AuthorizationTypes.Permanent, requested, cancellationToken))
            {
                remembered = true;
                break;
            }
        }

        if (client.ConsentType == ConsentTypes.Implicit || (remembered && !request.HasPromptValue(PromptValues.Consent)))
        {
            if (client.ConsentType != ConsentTypes.Implicit)
            {
                CountConsent(context, db, "remembered", inProcess);
            }

            return await SignInAsync(context, member, client, requested, remember: false, signedInAt);
        }

        if (request.HasPromptValue(PromptValues.None))
        {
            return Forbid(OpenIddictConstants.Errors.ConsentRequired, "The member has not consented to this client and these scopes.");
        }

        var id = await consents.CreateAsync(signedIn.Uid, request, cancellationToken);
        OAuthPipeline.SetPending(context, id);
        var links = services.GetRequiredService<IOptions<LinksOptions>>().Value;
        return Results.Redirect($"{links.Base}{OAuthPaths.ConsentPage}?request={Uri.EscapeDataString(id)}");
    }

    /// <summary>
    /// Counts a consent decision put into effect here (<c>pan_oauth_consents_total</c>) once the request's transaction
    /// (<see cref="TokenTransaction"/>) commits: a code that fails to be stored leaves the decided request open, and
    /// the decision is counted when it is used.
    /// </summary>
    private static void CountConsent(HttpContext context, PanDbContext db, string decision, bool inProcess) =>
        context.RequestServices.GetRequiredService<Metrics.PanMetrics>().WhenCommitted(db, m => m.ConsentDecision(decision, inProcess ? "grpc" : "browser"));

    /// <summary>
    /// The answer for a request without a live member: the sign-in page, or login_required with prompt=none or for an
    /// in-process request (whose caller has no browser to sign in with; the gRPC service answers it as a token of a
    /// deleted member).
    /// </summary>
    private static IResult NotSignedIn(HttpContext context, OpenIddictRequest request) =>
        request.HasPromptValue(PromptValues.None) || OAuthPipeline.MemberOf(context) is not null
            ? Forbid(OpenIddictConstants.Errors.LoginRequired, "The member is not signed in.")
            : Results.Redirect(SignInUrl(context, request));

    /// <summary>An OAuth error for the client: OpenIddict redirects it to the client's redirect URI with the state.</summary>
    public static IResult Forbid(string error, string description) =>
        Results.Forbid(
            new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
                [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
            }),
            [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);

    /// <summary>
    /// Issues the code. With <paramref name="remember"/> the member's consent is first stored in their remembered consent
    /// to the client, a permanent authorization (<see cref="RememberAsync"/>). The code itself is never attached to it:
    /// the principal carries no authorization id, so OpenIddict makes an ad-hoc authorization for this code alone, and
    /// the code, the tokens its exchange issues and every refresh after it share that one.
    /// </summary>
    /// <remarks>
    /// Why not the remembered consent as the code's authorization: the code's authorization is the grant that a
    /// refresh token's revocation (<see cref="OAuthGrantRevocation"/>, RFC 7009 2.1) and OpenIddict's theft detection
    /// (a code or refresh token presented again) end with every token of it. Every code the consent covers would share
    /// it — every device the member signs in to the app on — so an app signing out on one device, or a replay on one,
    /// ended the app for the member everywhere, and a replay also revoked the consent itself. The remembered consent is
    /// only the record that spares the member the consent screen; it grants nothing without a new code.
    /// </remarks>
    private static async Task<IResult> SignInAsync(
        HttpContext context, Member member, OAuthClient client, ImmutableArray<string> scopes, bool remember, DateTimeOffset? signedInAt)
    {
        var members = context.RequestServices.GetRequiredService<OAuthMembers>();
        var identity = members.Identity(member, scopes);
        // Why: an app that asked for prompt=login or max_age checks auth_time in the ID token (OIDC Core 2, 3.1.2.1).
        identity.SetClaim(Claims.AuthenticationTime, signedInAt?.ToUnixTimeSeconds());
        if (remember)
        {
            await RememberAsync(context, new ClaimsPrincipal(identity), member, client, scopes);
        }

        return Results.SignIn(new ClaimsPrincipal(identity), null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// Stores a remembered decision in the member's one remembered consent to the client (a permanent authorization),
    /// made on the first. Each scope holds the member's latest remembered decision on it: the scopes granted now are
    /// added, the scopes the app asked for now and the member left out are dropped, and the scopes not asked for now stay
    /// as they were. Why one: every remembered consent (prompt=consent, or a request the remembered scopes did not
    /// cover) used to add another permanent authorization, and a narrower decision left the wider one in place, which
    /// then still spared the member the screen for what they had just refused.
    /// </summary>
    /// <remarks>
    /// The caller holds <see cref="OAuthAppLock"/>: two remembered consents finishing at once (two tabs, two devices)
    /// would otherwise both find none and both add one, and a removal at "my apps" committing between the read and the
    /// update would be written over. Consents stored twice before (by that race, or by older versions of Pan) all get
    /// the new scopes; none is revoked, since a chain issued under a remembered consent before each code had its own
    /// grant may still carry one of them as its grant.
    /// </remarks>
    private static async Task RememberAsync(HttpContext context, ClaimsPrincipal principal, Member member, OAuthClient client, ImmutableArray<string> granted)
    {
        var cancellationToken = context.RequestAborted;
        var subject = OAuthMembers.Subject(member.ObjectId);
        var authorizations = context.RequestServices.GetRequiredService<IOpenIddictAuthorizationManager>();
        var remembered = new List<object>();
        await foreach (var authorization in authorizations.FindAsync(subject, client.Id, Statuses.Valid, AuthorizationTypes.Permanent, null, cancellationToken))
        {
            remembered.Add(authorization);
        }

        if (remembered.Count == 0)
        {
            await authorizations.CreateAsync(principal, subject, client.Id, AuthorizationTypes.Permanent, granted, cancellationToken);
            return;
        }

        var scopes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var authorization in remembered)
        {
            scopes.UnionWith(await authorizations.GetScopesAsync(authorization, cancellationToken));
        }

        var asked = context.GetOpenIddictServerRequest()?.GetScopes() ?? [];
        scopes.ExceptWith(asked.Except(granted, StringComparer.Ordinal));
        scopes.UnionWith(granted);
        foreach (var authorization in remembered)
        {
            var descriptor = new OpenIddictAuthorizationDescriptor();
            await authorizations.PopulateAsync(descriptor, authorization, cancellationToken);
            descriptor.Scopes.Clear();
            descriptor.Scopes.UnionWith(scopes);
            await authorizations.UpdateAsync(authorization, descriptor, cancellationToken);
        }
    }

    /// <summary>
    /// Whether the request's id_token_hint (an ID token of Pan's, checked by OpenIddict) names a member other than the
    /// browser's. Why: OIDC Core 3.1.2.1 gives a positive answer for the hinted member only; an app renewing its member's
    /// sign-in (typically prompt=none) while the browser has since signed in as someone else (another member of the
    /// phone, or another person) would otherwise get a code for that other member. With prompt=none the app gets
    /// login_required; otherwise the member is asked to sign in, and the request they return to carries no hint
    /// (<see cref="SignInUrl"/>): whoever signs in then is the member "logged in by the request".
    /// </summary>
    private static async Task<bool> HintsAnotherMemberAsync(HttpContext context, Member member)
    {
        if (string.IsNullOrEmpty(context.GetOpenIddictServerRequest()?.IdTokenHint))
        {
            return false;
        }

        var hint = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        return hint.Principal?.GetClaim(Claims.Subject) is { } subject && subject != OAuthMembers.Subject(member.ObjectId);
    }

    /// <summary>
    /// Whether the browser's member must sign in again before a code is issued: prompt=login; max_age=0 or a sign-in
    /// older than max_age seconds; or a sign-in not later than <see cref="OAuthPaths.SignedInAfterParameter"/> (the
    /// request coming back from such a sign-in). An unknown sign-in time counts as too old.
    /// </summary>
    private static bool MustSignInAgain(OpenIddictRequest request, DateTimeOffset? signedInAt, DateTimeOffset now)
    {
        var after = long.TryParse((string?)request[OAuthPaths.SignedInAfterParameter], NumberStyles.None, CultureInfo.InvariantCulture, out var ms) ? ms : (long?)null;
        if (!request.HasPromptValue(PromptValues.Login) && request.MaxAge is null && after is null)
        {
            return false;
        }

        return signedInAt is not { } at
            || request.HasPromptValue(PromptValues.Login)
            || request.MaxAge is { } maxAge && (maxAge <= 0 || now - at > TimeSpan.FromSeconds(maxAge))
            || at.ToUnixTimeMilliseconds() <= after;
    }

    /// <summary>
    /// The sign-in page, returning to this very authorization request (a local URL). With <paramref name="again"/> the
    /// page shows its form even to a signed-in browser, and the request it returns to has prompt=login and max_age
    /// replaced by <see cref="OAuthPaths.SignedInAfterParameter"/> = now, and no id_token_hint (the member the form
    /// signs in is the one the request is for). Why: keeping them would send the browser back
    /// to the sign-in page forever (max_age=0 is never met); the marker still refuses the old cookie (a browser that
    /// skips the form comes back here), and the app checks auth_time in the ID token in any case.
    /// </summary>
    private static string SignInUrl(HttpContext context, OpenIddictRequest request, bool again = false)
    {
        var links = context.RequestServices.GetRequiredService<IOptions<LinksOptions>>().Value;
        string[] dropped = again
            ?
            [
                OAuthPaths.ConsentParameter, OpenIddictConstants.Parameters.Prompt, OpenIddictConstants.Parameters.MaxAge, OAuthPaths.SignedInAfterParameter,
                OpenIddictConstants.Parameters.IdTokenHint,
            ]
            : [OAuthPaths.ConsentParameter];
        var parameters = request.GetParameters()
            .Where(p => !dropped.Contains(p.Key) && (string?)p.Value is { Length: > 0 })
            .Select(p => new KeyValuePair<string, string?>(p.Key, (string?)p.Value));
        if (again)
        {
            var prompt = string.Join(' ', request.GetPromptValues().Where(v => v != PromptValues.Login));
            var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeMilliseconds();
            parameters = parameters.Append(new(OpenIddictConstants.Parameters.Prompt, prompt))
                .Append(new(OAuthPaths.SignedInAfterParameter, now.ToString(CultureInfo.InvariantCulture)))
                .Where(p => p.Value is { Length: > 0 });
        }

        var returnUrl = OAuthServiceCollectionExtensions.Issuer(links).AbsolutePath + OAuthPaths.Authorize + QueryString.Create(parameters);
        var url = $"{links.Base}{MemberCookie.SignInPath}?{MemberCookie.ReturnUrlParameter}={Uri.EscapeDataString(returnUrl)}";
        return again ? $"{url}&{MemberCookie.PromptParameter}={PromptValues.Login}" : url;
    }
}
