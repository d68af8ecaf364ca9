using Pan.Data.Sms;
using Pan.Server.Phones;

namespace Pan.Server.Sms;

/// <summary>Why an SMS was not sent. A blocked send never reaches a provider.</summary>
public enum SmsBlockReason
{
    None,
    CountryNotAllowed,

    /// <summary>The number is no mobile (a landline, toll-free, premium-rate, …): see <see cref="PhoneNumbers.ParseForSms"/>.</summary>
    CannotReceiveSms,
    PhoneHourlyCap,
    PhoneDailyCap,
    IpHourlyCap,
    IpDailyCap,
    CountryHourlyCap,
    CountryDailyCap,

    /// <summary>An operator blocked the number (<see cref="PhoneBlocks.PhoneBlocks"/>): nothing is counted against its caps.</summary>
    PhoneBlocked,
}

/// <summary>What an SMS is for (kept with the send log; caps count every purpose).</summary>
public enum SmsPurpose
{
    Register,
    Login,
    ValidatePhone,
    Verify,
    Reset,
    Activation,
    Internal,
}

/// <summary>A send <see cref="SmsGate.ReserveAsync{T}"/> committed (log row and counts); hand it to <see cref="SmsGate.SendReservedAsync"/>.</summary>
public sealed record SmsReservation(SmsSend Entry, PhoneNumber To, SmsPurpose Purpose);

public sealed record SmsSendResult(bool Sent, SmsBlockReason Blocked)
{
    public static SmsSendResult Ok { get; } = new(true, SmsBlockReason.None);
}
