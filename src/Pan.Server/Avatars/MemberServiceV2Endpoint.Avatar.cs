using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Avatars;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    /// <summary>
    /// Replaces the caller's avatar and returns the new URL (also what Object.avatar shows from now on). The upload is
    /// checked by content, not name: empty, over <c>Pan:Avatars:MaxBytes</c>, not a JPEG/PNG/WebP/GIF or not decodable:
    /// INVALID_ARGUMENT naming <c>avatar</c>. A bad token: UNAUTHENTICATED (reason TOKEN_INVALID; the seed has no
    /// avatar error enum). The size and format checks run before the token is looked up, the decoding after.
    /// </summary>
    public override async Task<UpdateAvatarResponse> UpdateAvatar(UpdateAvatarRequest request, ServerCallContext context)
    {
        var avatars = Resolve<AvatarService>(context);
        avatars.CheckUpload(request.Avatar.Span);
        var caller = await CallerAsync(request.AccessToken, context);
        var url = await avatars.UpdateAsync(caller.Uid, caller.AccountId, request.Avatar.Memory, context.CancellationToken)
            ?? throw TokenInvalid();
        return new UpdateAvatarResponse { Avatar = url };
    }
}
