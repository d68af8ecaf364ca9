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
/// then sends the browser to <c>redirect</c>). Proof: <c>verify_token</c>, a verify token for <c>update-credential</c>
/// bound to the member (VerifyPhoneCode, VerifyMemberByPassword or VerifyEmailCode), spent in the transaction that
/// records the address; a refusal or a failure leaves it usable and nothing written or mailed. Why: an address is the
/// account's recovery channel (a verified one resets the password, and VerifyEmailCode gives an update-credential
/// token), and the access token alone is what every app of the family holds (SECURITY 4 and 13). Why a verified address
/// cannot be replaced here: replacing one goes through UpdateCredential, which tells the old address. Setting the
/// current address again resends the verification while it is unverified (spending a token; SendEmailVerification
/// resends without one), and changes and spends nothing while it is verified.
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

        // Why checked here too: the token is spent only in the transaction that records the address, after the address
        // is checked and its mail reserved with the caps; a bad one is refused before that work.
        if (!await tokens.VerifyTokenIsLiveAsync(request.VerifyToken, caller.Uid, VerifyPurposes.UpdateCredential, cancellationToken))
        {
            // Why the member is read again: a deletion that committed since the read above erased its proofs too; the
            // caller is answered as for a gone member, not as for a wrong proof.
            throw await db.Members.AnyAsync(m => m.Uid == caller.Uid && m.Deleted == null, cancellationToken)
                ? ProofInvalid()
                : PanError.Of(E.Failed, StatusCode.Unauthenticated, "The member no longer exists.");
        }

        var spend = (CancellationToken ct) => tokens.ConsumeVerifyTokenAsync(request.VerifyToken, caller.Uid, VerifyPurposes.UpdateCredential, ct);
        return await changes.RequestAsync(caller.Uid, address, request.Redirect, spend, cancellationToken) switch
        {
            EmailChangeResult.Sent => new SetMemberEmailResponse(),
            EmailChangeResult.ProofRefused => throw ProofInvalid(),
            // Why not UNAVAILABLE alone: the address and the token's use are committed, so repeating the request is
            // refused; the member asks for a new mail instead.
            EmailChangeResult.SavedNotMailed => throw PanError.Of(E.Failed, StatusCode.Unavailable,
                "The address was saved, but the verification mail could not be sent; ask for a new one with SendEmailVerification."),
            EmailChangeResult.Taken => throw PanError.Of(E.EmailExists, StatusCode.AlreadyExists, "The email already belongs to another member."),
            EmailChangeResult.InvalidEmail => throw PanError.InvalidArgument("email", "is not a valid email address"),
            // Deleted after the check above: answered as that check answers a deleted member.
            EmailChangeResult.MemberGone => throw PanError.Of(E.Failed, StatusCode.Unauthenticated, "The member no longer exists."),
            _ => throw PanError.InvalidArgument("redirect", "must be an absolute http(s) URL on an allowed host (Pan:Links:AllowedRedirectHosts)"),
        };
    }

    private static RpcException ProofInvalid() =>
        PanError.Of(E.Failed, StatusCode.PermissionDenied,
            "A verify_token for update-credential is required: it is missing, wrong, expired, used or for another member or operation.");
}
