using System.Collections.Immutable;
using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using Pan.Data;
using Pan.Data.Members;
using Pan.Data.Tokens;
using Pan.Server.Avatars;
using Pan.Server.Pages.SignIn;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Pan.Server.OAuth;

/// <summary>
/// The member behind a provider request and the claims the provider issues about them. The OIDC subject
/// (<c>sub</c>) is the member's object_id: stable, and not the sequential uid.
/// </summary>
public sealed class OAuthMembers(PanDbContext db, AvatarUrls avatars, TimeProvider clock)
{
    /// <summary>
    /// The member an in-process (gRPC) request acts for, else the member cookie's; null when there is none, or when its
    /// session was revoked or expired or the member deleted (so signing out anywhere also ends the consent flow).
    /// </summary>
    public async Task<SignedInMember?> CurrentAsync(HttpContext context)
    {
        var member = OAuthPipeline.MemberOf(context);
        if (member is null)
        {
            var cookie = await context.AuthenticateAsync(MemberCookie.Scheme);
            member = MemberCookie.Read(cookie.Principal);
        }

        return member is not null && await IsLiveAsync(member, context.RequestAborted) ? member : null;
    }

    /// <summary>
    /// The antiforgery tokens of a member page's form, bound to <paramref name="member"/>'s sign-in (see
    /// <see cref="IsFormValidAsync"/>).
    /// </summary>
    public static AntiforgeryTokenSet FormTokens(HttpContext context, SignedInMember member)
    {
        context.User = MemberCookie.Create(member);
        return context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
    }

    /// <summary>
    /// Whether a member page's form post carries antiforgery tokens issued to <paramref name="member"/>'s sign-in. Why
    /// the member is made the request's user first (here and in <see cref="FormTokens"/>): the pages read the member
    /// cookie themselves (no default authentication scheme), so <see cref="HttpContext.User"/> was anonymous and a token
    /// pair from anyone's browser was valid in every browser: one planted by someone who can set a cookie for Pan's host
    /// (a sibling subdomain) would pass.
    /// </summary>
    public static Task<bool> IsFormValidAsync(HttpContext context, SignedInMember member)
    {
        context.User = MemberCookie.Create(member);
        return context.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(context);
    }

    /// <summary>When the browser's member signed in: the member cookie's issue time; null without one.</summary>
    public static async Task<DateTimeOffset?> SignedInAtAsync(HttpContext context) =>
        (await context.AuthenticateAsync(MemberCookie.Scheme)).Properties?.IssuedUtc;

    public async Task<bool> IsLiveAsync(SignedInMember member, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return await db.Set<AuthSession>().AnyAsync(s => s.Id == member.SessionId && s.AccountId == member.AccountId && s.Revoked == null && s.Expires > now, cancellationToken)
               && await db.Members.AnyAsync(m => m.Uid == member.Uid && m.Deleted == null, cancellationToken);
    }

    /// <summary>The live member whose object_id is <paramref name="subject"/>.</summary>
    public async Task<Member?> FindAsync(string? subject, CancellationToken cancellationToken) =>
        Guid.TryParse(subject, out var objectId)
            ? await db.Members.Include(m => m.Account).AsNoTracking().SingleOrDefaultAsync(m => m.ObjectId == objectId && m.Deleted == null, cancellationToken)
            : null;

    public async Task<Member?> FindAsync(long uid, CancellationToken cancellationToken) =>
        await db.Members.Include(m => m.Account).AsNoTracking().SingleOrDefaultAsync(m => m.Uid == uid && m.Deleted == null, cancellationToken);

    public static string Subject(Guid objectId) => objectId.ToString("D");

    /// <summary>The identity OpenIddict turns into codes and tokens: subject, the member's claims the scopes allow, the scopes.</summary>
    public ClaimsIdentity Identity(Member member, ImmutableArray<string> scopes) =>
        Apply(new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role), member, scopes);

    /// <summary>Sets (or refreshes) the member's claims, the scopes and every claim's destinations on <paramref name="identity"/>.</summary>
    public ClaimsIdentity Apply(ClaimsIdentity identity, Member member, ImmutableArray<string> scopes)
    {
        identity.SetClaim(Claims.Subject, Subject(member.ObjectId));
        if (scopes.Contains(Scopes.Profile))
        {
            identity.SetClaim(Claims.Name, member.DisplayName);
            identity.SetClaim(Claims.PreferredUsername, member.Username ?? member.DisplayName);
            identity.SetClaim(Claims.Picture, avatars.For(member.AvatarKey) is { Length: > 0 } picture ? picture : null);
            identity.SetClaim(Claims.Locale, member.Locale);
        }

        if (scopes.Contains(Scopes.Email) && !string.IsNullOrEmpty(member.Email))
        {
            identity.SetClaim(Claims.Email, member.Email);
            identity.SetClaim(Claims.EmailVerified, member.EmailVerified);
        }

        if (scopes.Contains(Scopes.Phone) && member.Account?.PhoneE164 is { Length: > 0 } phone)
        {
            identity.SetClaim(Claims.PhoneNumber, phone);
            identity.SetClaim(Claims.PhoneNumberVerified, true);
        }

        OAuthGenerations.Stamp(identity, member);
        identity.SetScopes(scopes);
        identity.SetDestinations(claim => DestinationsOf(claim, scopes));
        return identity;
    }

    /// <summary>The member's claims for the userinfo endpoint (what the access token's scopes allow).</summary>
    public Dictionary<string, object> UserInfo(Member member, ImmutableArray<string> scopes)
    {
        var identity = Identity(member, scopes);
        var claims = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var claim in identity.Claims.Where(c => !c.Type.StartsWith("oi_", StringComparison.Ordinal) && c.Type != OAuthGenerations.ClaimType))
        {
            claims[claim.Type] = claim.ValueType == ClaimValueTypes.Boolean ? bool.Parse(claim.Value) : claim.Value;
        }

        return claims;
    }

    // Why: the subject goes everywhere; profile, email and phone claims go into the ID token and access token only when
    // their scope was granted; the token generation goes into the access token only (userinfo and introspection check
    // it; codes and refresh tokens keep every claim anyway); auth_time goes into the ID token; nothing else leaves.
    private static IEnumerable<string> DestinationsOf(Claim claim, ImmutableArray<string> scopes)
    {
        if (claim.Type == OAuthGenerations.ClaimType)
        {
            return [Destinations.AccessToken];
        }

        if (claim.Type == Claims.AuthenticationTime)
        {
            return [Destinations.IdentityToken];
        }

        var scope = claim.Type switch
        {
            Claims.Subject => null,
            Claims.Name or Claims.PreferredUsername or Claims.Picture or Claims.Locale => Scopes.Profile,
            Claims.Email or Claims.EmailVerified => Scopes.Email,
            Claims.PhoneNumber or Claims.PhoneNumberVerified => Scopes.Phone,
            _ => "-",
        };
        if (scope is null || scopes.Contains(scope))
        {
            return [Destinations.AccessToken, Destinations.IdentityToken];
        }

        return [];
    }
}
