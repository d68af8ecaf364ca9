using Grpc.Core;
using Pan.General.Member;
using Pan.Server.Session;

namespace Pan.Server.Members;

public sealed partial class MemberServiceV2Endpoint
{
    /// <summary>
    /// Whether the caller is an AV+ VIP: their vip_expire_date is after now (the server's clock). A token that is
    /// unknown, expired, revoked or whose member was deleted: UNAUTHENTICATED (reason TOKEN_INVALID).
    /// </summary>
    public override async Task<AvPlusResponse> AvPlus(AvPlusRequest request, ServerCallContext context)
    {
        var caller = await CallerAsync(request.PanAccessToken, context);
        var member = (await Resolve<MemberDirectory>(context).ReadAsync([caller.Uid], [], context.CancellationToken)).SingleOrDefault();
        var now = Resolve<TimeProvider>(context).GetUtcNow();
        return new AvPlusResponse { IsVip = member?.VipExpireDate is { } expires && expires > now };
    }
}
