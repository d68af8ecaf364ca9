using System.Globalization;
using System.Security.Claims;

namespace Pan.Server.Pages.SignIn;

/// <summary>A member signed in to Pan's hosted pages, as read from the member cookie.</summary>
public sealed record SignedInMember(long Uid, Guid ObjectId, long AccountId, long SessionId, string AuthMethod);

/// <summary>
/// The browser session of Pan's hosted pages (sign-in, consent, "my apps"): an ASP.NET Core cookie authentication
/// scheme whose principal names one member and the Pan auth session behind it (so revoking that session signs the
/// browser out too). The sign-in pages issue it; the OAuth authorize endpoint and the consent pages read it.
/// </summary>
public static class MemberCookie
{
    public const string Scheme = "PanMember";

    /// <summary>The sign-in page; it takes the local URL to return to in <see cref="ReturnUrlParameter"/>.</summary>
    public const string SignInPath = "/account/sign-in";

    public const string ReturnUrlParameter = "returnUrl";

    /// <summary>"prompt=login" on the sign-in page: show the form even to a signed-in browser (the OAuth app asked for a fresh sign-in).</summary>
    public const string PromptParameter = "prompt";

    public const string UidClaim = "uid";
    public const string ObjectIdClaim = "object_id";
    public const string AccountIdClaim = "account_id";
    public const string SessionIdClaim = "sid";
    public const string AuthMethodClaim = "amr";

    /// <summary>The member a principal of this scheme names, or null when it is not one.</summary>
    public static SignedInMember? Read(ClaimsPrincipal? principal)
    {
        if (principal?.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        string? Claim(string type) => principal.FindFirst(type)?.Value;
        return long.TryParse(Claim(UidClaim), NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
               && Guid.TryParse(Claim(ObjectIdClaim), out var objectId)
               && long.TryParse(Claim(AccountIdClaim), NumberStyles.None, CultureInfo.InvariantCulture, out var accountId)
               && long.TryParse(Claim(SessionIdClaim), NumberStyles.None, CultureInfo.InvariantCulture, out var sessionId)
            ? new SignedInMember(uid, objectId, accountId, sessionId, Claim(AuthMethodClaim) ?? string.Empty)
            : null;
    }

    /// <summary>The principal the sign-in pages store in the cookie.</summary>
    public static ClaimsPrincipal Create(SignedInMember member) =>
        new(new ClaimsIdentity(
        [
            new Claim(UidClaim, member.Uid.ToString(CultureInfo.InvariantCulture)),
            new Claim(ObjectIdClaim, member.ObjectId.ToString()),
            new Claim(AccountIdClaim, member.AccountId.ToString(CultureInfo.InvariantCulture)),
            new Claim(SessionIdClaim, member.SessionId.ToString(CultureInfo.InvariantCulture)),
            new Claim(AuthMethodClaim, member.AuthMethod),
        ], Scheme, UidClaim, null));
}
