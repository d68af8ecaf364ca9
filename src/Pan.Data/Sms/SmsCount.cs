namespace Pan.Data.Sms;

/// <summary>
/// One bucket of an SMS cap counter (<c>sms_counts</c>): how many counted sends one key (a phone, a client address or a
/// country) had in one minute or in one hour. The caps sum a key's buckets, so a check reads at most 61 minute buckets
/// and 25 hour buckets per key, however many SMS the key has had.
/// </summary>
public sealed class SmsCount
{
    /// <summary>Bucket width for the hourly caps.</summary>
    public const int MinuteSpan = 1;

    /// <summary>Bucket width for the daily caps.</summary>
    public const int HourSpan = 60;

    /// <summary>What is counted: <c>p:</c> and the phone's SHA-256 in hex, <c>i:</c> and the client address, <c>c:</c> and the calling code.</summary>
    public string Key { get; set; } = string.Empty;

    /// <summary>Minutes per bucket: <see cref="MinuteSpan"/> or <see cref="HourSpan"/>.</summary>
    public int Span { get; set; }

    /// <summary>The bucket's start, in minutes since the Unix epoch (a multiple of <see cref="Span"/>).</summary>
    public long Bucket { get; set; }

    /// <summary>Sends counted in the bucket: sent, failed or still pending (a blocked send takes its count back).</summary>
    public int Sends { get; set; }
}
