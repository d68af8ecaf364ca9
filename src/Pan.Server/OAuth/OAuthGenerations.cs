using System.Globalization;
using System.Security.Claims;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Pan.Data.Members;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Pan.Server.OAuth;

/// <summary>
/// The member's token generation carried in every code and token the provider issues (the private claim
/// <c>pan_gen</c>). A password change or reset bumps the generation (TokenService) in the same transaction that revokes
/// the member's OAuth token entries (<see cref="OAuthPasswordChangeRevoker"/>); a code or token minted with an older
/// generation is then refused wherever Pan decides: the code exchange and the refresh grant answer
/// <c>invalid_grant</c>, userinfo answers <c>invalid_token</c>, introspection answers <c>active: false</c>.
/// </summary>
/// <remarks>
/// Why both: revoking the entries only reaches entries that exist and are valid when the revocation commits. A refresh
/// grant that redeemed its refresh token just before (or a code exchange, or an authorize that read the member just
/// before) stores its new refresh token, access token and code after it, with status valid; those still carry the old
/// generation, so their next use is refused. Why "different" rather than "older": a generation only grows, and Pan's
/// own tokens are checked the same way. Codes and tokens issued before Pan carried the claim have none and are taken
/// as current; their next refresh stamps it.
/// </remarks>
public static class OAuthGenerations
{
    /// <summary>The claim type. Codes and refresh tokens (encrypted, read only by Pan) and access tokens carry it; ID tokens do not.</summary>
    public const string ClaimType = "pan_gen";

    /// <summary>Sets the member's current generation on <paramref name="identity"/>.</summary>
    public static void Stamp(ClaimsIdentity identity, Member member) =>
        identity.SetClaim(ClaimType, member.TokenGeneration.ToString(CultureInfo.InvariantCulture));

    /// <summary>True when <paramref name="principal"/> was minted before the member's last password change or reset.</summary>
    public static bool IsStale(ClaimsPrincipal principal, Member member) =>
        principal.GetClaim(ClaimType) is { } value
        && (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var generation) || generation != member.TokenGeneration);

    /// <summary>
    /// Introspection (which OpenIddict answers itself): a token of a member that no longer exists, or minted with an
    /// older generation, is reported inactive. Runs after OpenIddict has validated the token and the caller.
    /// </summary>
    public sealed class IntrospectionCheck(OAuthMembers members) : IOpenIddictServerHandler<ValidateIntrospectionRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateIntrospectionRequestContext>()
                .UseScopedHandler<IntrospectionCheck>()
                .SetOrder(OpenIddictServerHandlers.Introspection.ValidateAuthorizedParty.Descriptor.Order + 1_000)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ValidateIntrospectionRequestContext context)
        {
            if (context.GenericTokenPrincipal is not { } principal || principal.GetClaim(OpenIddictConstants.Claims.Subject) is not { } subject)
            {
                return;
            }

            var member = await members.FindAsync(subject, context.CancellationToken);
            if (member is null || IsStale(principal, member))
            {
                // Why invalid_token: OpenIddict turns it into the standard "active": false answer (NormalizeErrorResponse).
                context.Reject(OpenIddictConstants.Errors.InvalidToken, "The token is no longer valid.");
            }
        }
    }
}
