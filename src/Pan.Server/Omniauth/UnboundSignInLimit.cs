using Microsoft.Extensions.Options;
using Pan.Server.Network;

namespace Pan.Server.Omniauth;

/// <summary>
/// The hourly limit on <c>through_omniauth</c> calls of provider users bound to no member, per client address (an IPv6
/// address by its /64; SECURITY 15). Such a call answers 4028 (or 4026) when its email is a member's verified address
/// and signs the user up otherwise — what <c>email_existed</c> tells only within its limits — so with one unbound
/// provider account a caller could test email after email, a hit costing nothing. Counted in <c>rate_counters</c>, so
/// every node agrees; every such call counts, also a refused one. A bound user's sign-in is never counted.
/// </summary>
public sealed class UnboundSignInLimit(RateCounters counters, IOptions<OmniauthOptions> options)
{
    /// <summary>Counts the call; <c>429 Too many requests</c> once the address is past <c>Pan:Omniauth:UnboundSignInsPerIpPerHour</c>.</summary>
    /// <param name="clientAddress">The client address as <see cref="Sms.SmsKeys.Ip"/> keys it.</param>
    public async Task CountAsync(string clientAddress, CancellationToken cancellationToken)
    {
        var hit = await counters.HitAsync("through_omniauth:ip:" + clientAddress, options.Value.UnboundSignInsPerIpPerHour, cancellationToken);
        if (hit.RetryAfterSeconds is { } seconds)
        {
            throw OmniauthException.TooManyRequests(seconds);
        }
    }
}
