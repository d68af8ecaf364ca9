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
}
