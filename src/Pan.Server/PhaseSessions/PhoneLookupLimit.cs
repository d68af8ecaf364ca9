using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Pan.Server.Network;
using Pan.Server.Sms;

namespace Pan.Server.PhaseSessions;

/// <summary><c>Pan:PhoneLookups:*</c>: how often one client address may ask whether phones have accounts.</summary>
public sealed class PhoneLookupOptions
{
    public const string Section = "Pan:PhoneLookups";

    /// <summary>Check-existence steps (sign-in and sign-up together) per client address (IPv4, or IPv6 /64) per hour.</summary>
    [Range(1, 100_000_000, ErrorMessage = "Pan:PhoneLookups:PerIpPerHour must be between {1} and {2}.")]
    public int PerIpPerHour { get; set; } = 300;

    /// <summary>
    /// With <c>Pan:Captcha:Mode</c> risk: check-existence steps per client address per hour answered without a captcha
    /// (the same window as <see cref="PerIpPerHour"/>); past it every step from that address waits for its captcha
    /// before telling. 0 asks every step, like mode always. Why not checked against <see cref="PerIpPerHour"/>: a value at
    /// or above it only means the hard limit comes first, and an operator lowering that limit must not have to lower this
    /// one too for the server to start.
    /// </summary>
    [Range(0, 100_000_000, ErrorMessage = "Pan:PhoneLookups:CaptchaAfterPerIpPerHour must be between {1} and {2}.")]
    public int CaptchaAfterPerIpPerHour { get; set; } = 10;
}

/// <summary>One admitted check-existence step: its address's count this hour, this one included.</summary>
/// <param name="FromAddressThisHour">The window's count for the caller's address, including this step.</param>
/// <param name="PastCaptchaThreshold">
/// True when that count is over <see cref="PhoneLookupOptions.CaptchaAfterPerIpPerHour"/>: in captcha mode risk the
/// step's flow needs the captcha (<see cref="PhoneCodeSender.CaptchaNeededAsync"/>); other modes ignore it.
/// </param>
public readonly record struct PhoneLookupAdmission(int FromAddressThisHour, bool PastCaptchaThreshold);

/// <summary>
/// The rate limit of the two steps allowed to tell whether a phone has an account: Login's and Register's
/// check-existence (SECURITY 15). Every such step counts against its client address in a fixed one-hour window kept in
/// the database (<c>rate_counters</c>, shared by every node), before the phone is looked up; past
/// <see cref="PhoneLookupOptions.PerIpPerHour"/> the step answers the flow's CODE_PENDING_10, the same for a phone
/// with or without an account, without looking it up.
/// </summary>
/// <remarks>
/// Why per address and this default: the lookups of an enumeration run come from few addresses, while the sign-ins of
/// real members behind one carrier-grade NAT are spread over many; 300 an hour is well above the 20 SMS an address may
/// trigger (<c>Pan:Sms:Limits:PerIpPerHour</c>), since a lookup that finds nothing sends none. The captcha (<c>Pan:Captcha:Mode</c>
/// always, or risk when the SMS risk rules trip or the address is past <see cref="PhoneLookupOptions.CaptchaAfterPerIpPerHour"/>)
/// stands in front of the lookup's answer, not only of the code: a flow that needs one waits for it whether or not the
/// phone has an account (PhoneCodeSender.StartAndSendAsync).
/// Why the lookup count is a risk rule of its own: the SMS risk rules count sends, and a lookup of a phone without an
/// account sends nothing, so an enumeration run would never trip them. The count comes back from the same statement
/// that admits the step, so the decision costs no extra database round trip.
/// </remarks>
public sealed class PhoneLookupLimit(RateCounters counters, IOptions<PhoneLookupOptions> options, Metrics.PanMetrics metrics)
{
    /// <summary>
    /// Counts one lookup from the caller's address, or throws the flow's CODE_PENDING_10 when over the limit; returns
    /// the count, to be handed to <see cref="PhoneCodeSender.StartAndSendAsync"/> for the captcha decision.
    /// </summary>
    public async Task<PhoneLookupAdmission> AdmitAsync(HttpContext http, FlowErrors errors, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        var address = SmsKeys.Ip(ClientAddress.Of(http)) ?? "unknown";
        var hit = await counters.HitAsync("phone-lookup:" + address, limits.PerIpPerHour, cancellationToken);
        if (hit.RetryAfterSeconds is not null)
        {
            metrics.LookupRefused("phone");
            throw errors.CodePending10();
        }

        return new PhoneLookupAdmission(hit.Count, hit.Count > limits.CaptchaAfterPerIpPerHour);
    }
}
