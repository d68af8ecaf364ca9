using Microsoft.Extensions.Options;
using Pan.Server.Network;
using Pan.Server.Sms;

namespace Pan.Server.Guests;

/// <summary>
/// The hourly limit on account-name look-ups per client address (an IPv6 address by its /64): <c>accNameOk</c> and
/// <c>convertTemp</c> tell whether a name is taken, and a name is taken by a live phone account's number or a verified
/// email — what Login's check-existence step and <c>email_existed</c> tell only within their limits. Counted in
/// <c>rate_counters</c>, so every node agrees; every call counts, also a refused one.
/// </summary>
public sealed class GuestNameLookups(RateCounters counters, IOptions<GuestOptions> options, Metrics.PanMetrics metrics)
{
    /// <summary>Counts the call; <see cref="ApinodeException"/> 13 once the address is past <c>Pan:Guests:NameLookupsPerIpPerHour</c>.</summary>
    public async Task CountAsync(ApinodeRequest request, CancellationToken cancellationToken)
    {
        var ip = SmsKeys.Ip(ClientAddress.Of(request.Http)) ?? "unknown";
        var hit = await counters.HitAsync("guest_names:ip:" + ip, options.Value.NameLookupsPerIpPerHour, cancellationToken);
        if (hit.RetryAfterSeconds is not null)
        {
            metrics.LookupRefused("guest_name");
            throw new ApinodeException(GuestCodes.TooManyFromAddress, "Too many account-name look-ups from this address; try again later.");
        }
    }
}
