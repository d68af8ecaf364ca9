using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.General.Member;
using Pan.Server.Errors;
using Pan.Server.Links;
using Pan.Server.Tokens;
using E = Pan.General.Member.ErrSetMemberEmail.Types.General;

namespace Pan.Server.Email;

/// <summary>
/// SetMemberEmail: the signed-in member sets an email (stored unverified; a code and a link are mailed, the link's page
/// then sends the browser to <c>redirect</c>). Why a verified address cannot be replaced here: an access token alone
/// must not move the account's recovery channel (SECURITY 13); replacing a verified email goes through UpdateCredential
/// with a verify token. Setting the current address again resends the verification while it is unverified.
/// </summary>
public sealed class MemberEmailUpdate(PanDbContext db, TokenService tokens, LinkBuilder links, EmailChanges changes)
{
    public async Task<SetMemberEmailResponse> HandleAsync(SetMemberEmailRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Email))
        {
            throw PanError.InvalidArgument("email", "is required");
        }

        if (EmailAddresses.Normalize(request.Email) is not { } address)
        {
            throw PanError.InvalidArgument("email", "is not a valid email address");
        }

        links.Redirect(request.Redirect, "redirect");
        var caller = await tokens.ValidateAccessTokenAsync(request.AccessToken, cancellationToken)
            ?? throw PanError.Of(E.Failed, StatusCode.Unauthenticated, "The access_token is invalid or expired.");
        var current = await db.Members.AsNoTracking().Where(m => m.Uid == caller.Uid && m.Deleted == null)
            .Select(m => new { m.EmailKey, m.EmailVerified }).FirstOrDefaultAsync(cancellationToken)
            ?? throw PanError.Of(E.Failed, StatusCode.Unauthenticated, "The member no longer exists.");
        if (current.EmailVerified && current.EmailKey != EmailAddresses.Key(address))
        {
            throw PanError.Of(E.Failed, StatusCode.FailedPrecondition,
                "The member already has a verified email; change it with UpdateCredential and a verify token.");
        }

        return await changes.RequestAsync(caller.Uid, address, request.Redirect, cancellationToken) switch
        {
            EmailChangeResult.Sent => new SetMemberEmailResponse(),
            EmailChangeResult.Taken => throw PanError.Of(E.EmailExists, StatusCode.AlreadyExists, "The email already belongs to another member."),
            EmailChangeResult.InvalidEmail => throw PanError.InvalidArgument("email", "is not a valid email address"),
            // Deleted after the check above: answered as that check answers a deleted member.
            EmailChangeResult.MemberGone => throw PanError.Of(E.Failed, StatusCode.Unauthenticated, "The member no longer exists."),
            _ => throw PanError.InvalidArgument("redirect", "must be an absolute http(s) URL on an allowed host (Pan:Links:AllowedRedirectHosts)"),
        };
    }
}
