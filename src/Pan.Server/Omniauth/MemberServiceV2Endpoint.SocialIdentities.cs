using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Errors;
using Pan.Server.Omniauth;
using ListErr = Pan.General.Member.ListSocialIdentitiesResponse.Types.Error.Types.Value;
using UnlinkErr = Pan.General.Member.UnlinkSocialIdentityResponse.Types.Error.Types.Value;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    /// <summary>
    /// Pan extension: the caller's bound social-login identities, oldest first. access_token empty: INVALID_ARGUMENT
    /// naming it; a bad token (a deleted member's included): UNAUTHENTICATED ListSocialIdentitiesResponse.Error.TokenInvalid.
    /// </summary>
    public override async Task<ListSocialIdentitiesResponse> ListSocialIdentities(ListSocialIdentitiesRequest request, ServerCallContext context)
    {
        var caller = await SessionCallerAsync(request.AccessToken, ListErr.TokenInvalid, context);
        var identities = await Resolve<SocialIdentityStore>(context).ListAsync(caller.Uid, context.CancellationToken);
        var response = new ListSocialIdentitiesResponse();
        response.Identities.AddRange(identities.Select(i => new LinkedSocialIdentity
        {
            Provider = i.Provider,
            ProviderUserId = i.ProviderUserId,
            Created = Timestamp.FromDateTimeOffset(i.Created),
            LastUsed = Timestamp.FromDateTimeOffset(i.LastUsed),
        }));
        return response;
    }

    /// <summary>
    /// Pan extension: unbinds the caller's identity of one provider and ends the member's social-login sessions
    /// (<see cref="SocialIdentityStore.UnlinkAsync"/>). access_token or provider empty: INVALID_ARGUMENT naming it; an
    /// unknown provider, none bound or another member's: NOT_FOUND UnlinkSocialIdentityResponse.Error.IdentityNotFound
    /// (one answer); the member's last way in: FAILED_PRECONDITION LastWayIn. Nothing changes on a refusal.
    /// </summary>
    public override async Task<UnlinkSocialIdentityResponse> UnlinkSocialIdentity(UnlinkSocialIdentityRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.AccessToken))
        {
            throw PanError.InvalidArgument("access_token", "is required");
        }

        if (string.IsNullOrEmpty(request.Provider))
        {
            throw PanError.InvalidArgument("provider", "is required");
        }

        var caller = await SessionCallerAsync(request.AccessToken, UnlinkErr.TokenInvalid, context);
        return await Resolve<SocialIdentityStore>(context).UnlinkAsync(caller.Uid, request.Provider, context.CancellationToken) switch
        {
            UnlinkOutcome.Unlinked => new UnlinkSocialIdentityResponse(),
            UnlinkOutcome.LastWayIn => throw PanError.Of(UnlinkErr.LastWayIn, StatusCode.FailedPrecondition,
                "This identity is the member's last way to sign in: add a password, a phone, a verified email or a passkey first."),
            _ => throw PanError.Of(UnlinkErr.IdentityNotFound, StatusCode.NotFound, "The member has no identity of this provider."),
        };
    }
}
