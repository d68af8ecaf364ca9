using System.Globalization;
using System.Net;
using Pan.Server.Phones;

namespace Pan.Tests.Sms;

/// <summary>Fresh valid numbers and addresses, never repeated within a test run.</summary>
public static class TestPhones
{
    private static readonly PhoneNumbers Phones = new();
    private static int next = Random.Shared.Next(0, 5_000_000);

    /// <summary>A Taiwanese mobile number (+886 91x xxx xxx).</summary>
    public static PhoneNumber Taiwan() => Make("+88691", 7);

    /// <summary>A Hong Kong mobile number (+852 912x xxxx).</summary>
    public static PhoneNumber HongKong() => Make("+852912", 5);

    /// <summary>A US number (+1 650 2xx xxxx).</summary>
    public static PhoneNumber UnitedStates() => Make("+16502", 6);

    /// <summary>A Canadian number (+1 416 2xx xxxx): same calling code as the US, region CA.</summary>
    public static PhoneNumber Canada() => Make("+14162", 6);

    /// <summary>A UK mobile number (+44 7400 xxxxxx).</summary>
    public static PhoneNumber UnitedKingdom() => Make("+447400", 6);

    /// <summary>A Japanese mobile number (+81 902x xxx xxx).</summary>
    public static PhoneNumber Japan() => Make("+81902", 7);

    /// <summary>A fresh address from TEST-NET-3 / benchmarking space.</summary>
    public static IPAddress Ip()
    {
        var n = Interlocked.Increment(ref next);
        return new IPAddress([198, 18, (byte)(n >> 8), (byte)n]);
    }

    private static PhoneNumber Make(string prefix, int digits)
    {
        var n = Interlocked.Increment(ref next) % (int)Math.Pow(10, Math.Min(digits, 9));
        var e164 = prefix + n.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0');
        return Phones.FromE164(e164) ?? throw new InvalidOperationException($"{e164} is not a valid number; fix TestPhones.");
    }
}
