using Pan.Server.Phones;

namespace Pan.Tests.Phones;

/// <summary>Phone input to E.164 (no database: the parser is pure).</summary>
public sealed class PhoneNumbersTests
{
    private readonly PhoneNumbers phones = new();

    [Theory]
    [InlineData("886", "0912345678", "+886912345678", 886, "TW")]
    [InlineData("+886", "912 345 678", "+886912345678", 886, "TW")]
    [InlineData("TW", "0912-345-678", "+886912345678", 886, "TW")]
    [InlineData("tw", "(09) 1234 5678", "+886912345678", 886, "TW")]
    [InlineData("", "+886 912 345 678", "+886912345678", 886, "TW")]
    [InlineData(null, "+886912345678", "+886912345678", 886, "TW")]
    [InlineData("852", "9123 4567", "+85291234567", 852, "HK")]
    [InlineData("HK", "6123 4567", "+85261234567", 852, "HK")]
    [InlineData("1", "(650) 253-0000", "+16502530000", 1, "US")]
    [InlineData("US", "650.253.0000", "+16502530000", 1, "US")]
    [InlineData("1", "416 555 0199", "+14165550199", 1, "CA")]
    [InlineData("+44", "07400 123456", "+447400123456", 44, "GB")]
    public void Parse_ValidNumber_IsE164WithCountry(string? country, string value, string e164, int callingCode, string region)
    {
        var phone = phones.Parse(country, value);

        Assert.NotNull(phone);
        Assert.Equal(e164, phone.E164);
        Assert.Equal(callingCode, phone.CountryCode);
        Assert.Equal(region, phone.RegionCode);
    }

    [Theory]
    [InlineData("886", "０９１２３４５６７８")]
    [InlineData("８８６", "0912345678")]
    [InlineData("＋８８６", "0912345678")]
    [InlineData("ＴＷ", "0912345678")]
    [InlineData("", "＋８８６　９１２－３４５－６７８")]
    public void Parse_FullWidthInput_IsNormalised(string country, string value)
    {
        Assert.Equal("+886912345678", phones.Parse(country, value)?.E164);
    }

    [Theory]
    [InlineData("886", "")]
    [InlineData("886", "   ")]
    [InlineData("886", null)]
    [InlineData("", "0912345678")] // national form needs a country
    [InlineData(null, "912345678")]
    [InlineData("886", "12345")] // too short
    [InlineData("886", "091234567890123")] // too long
    [InlineData("886", "0912abc678")] // letters
    [InlineData("1", "1-800-FLOWERS")] // vanity letters are refused, not converted
    [InlineData("999", "0912345678")] // unknown calling code
    [InlineData("XX", "0912345678")] // unknown region
    [InlineData("886", "+852 9123 4567")] // international form disagrees with the country
    [InlineData("TW", "+852 9123 4567")]
    [InlineData("886", "0912;345678")]
    [InlineData("886", "+886 912 345 678 ext. 12")]
    public void Parse_Invalid_IsNull(string? country, string? value)
    {
        Assert.Null(phones.Parse(country, value));
    }

    [Fact]
    public void Parse_OversizedInput_IsNullWithoutParsing()
    {
        Assert.Null(phones.Parse("886", new string('9', 1_000_000)));
        Assert.Null(phones.Parse("886", "0912345678" + new string(' ', PhoneNumbers.MaxValueLength)));
        Assert.Null(phones.Parse(new string('8', 100), "0912345678"));
    }

    [Fact]
    public void FromE164_ReadsStoredNumbers()
    {
        var phone = phones.FromE164("+85291234567");
        Assert.Equal(new PhoneNumber("+85291234567", 852, "HK"), phone);
        Assert.Equal("567", phone!.Suffix);
        Assert.Null(phones.FromE164("0912345678"));
    }

    [Theory]
    [InlineData("886", "0912 345 678", "+886912345678")] // MOBILE
    [InlineData("886", "0905 123 456", "+886905123456")]
    [InlineData("852", "9123 4567", "+85291234567")]
    [InlineData("44", "07400 123456", "+447400123456")]
    [InlineData("81", "090-1234-5678", "+819012345678")]
    [InlineData("1", "(650) 253-0000", "+16502530000")] // FIXED_LINE_OR_MOBILE: the +1 plan cannot tell them apart
    [InlineData("1", "416 555 0199", "+14165550199")]
    [InlineData("", "+886 912 345 678", "+886912345678")]
    public void ParseForSms_MobileOrFixedLineOrMobile_IsAccepted(string country, string value, string e164)
    {
        Assert.Equal(e164, phones.ParseForSms(country, value, out var cannotReceiveSms)?.E164);
        Assert.False(cannotReceiveSms);
    }

    [Theory]
    [InlineData("886", "02 2345 6789")] // FIXED_LINE
    [InlineData("852", "3123 4567")]
    [InlineData("81", "03-1234-5678")]
    [InlineData("886", "0800 000 123")] // TOLL_FREE
    [InlineData("1", "800 253 0000")]
    [InlineData("", "+800 1234 5678")] // international freephone (non-geographic)
    [InlineData("886", "0204 123 456")] // PREMIUM_RATE
    [InlineData("1", "900 555 0123")]
    [InlineData("44", "0909 879 0000")]
    [InlineData("33", "0884 01 23 45")] // SHARED_COST
    [InlineData("43", "0810 123456")]
    [InlineData("44", "056 1234 5678")] // VOIP
    [InlineData("886", "070 1234 5678")]
    [InlineData("44", "070 1234 5678")] // PERSONAL_NUMBER
    [InlineData("886", "0990 123 456")]
    [InlineData("44", "07640 123456")] // PAGER
    [InlineData("44", "055 1234 5678")] // UAN
    [InlineData("886", "050 012 3456")]
    public void ParseForSms_ValidNumberThatCannotReceiveSms_IsRefusedAsSuch(string country, string value)
    {
        Assert.NotNull(phones.Parse(country, value)); // a valid number …
        Assert.Null(phones.ParseForSms(country, value, out var cannotReceiveSms)); // … that takes no SMS code
        Assert.True(cannotReceiveSms);
    }

    [Theory]
    [InlineData("886", "12")]
    [InlineData("886", "")]
    [InlineData("886", null)]
    [InlineData("1", "1-800-FLOWERS")]
    public void ParseForSms_InvalidNumber_IsNotCalledNonMobile(string country, string? value)
    {
        Assert.Null(phones.ParseForSms(country, value, out var cannotReceiveSms));
        Assert.False(cannotReceiveSms);
    }

    [Fact]
    public void FromE164_StoredNonMobileNumber_StillReads()
    {
        Assert.Equal("+886223456789", phones.FromE164("+886223456789")?.E164);
        Assert.Equal("+18002530000", phones.FromE164("+18002530000")?.E164);
    }
}
