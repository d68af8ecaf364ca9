using Pan.Server.Email;

namespace Pan.Tests.Email;

public sealed class EmailAddressTests
{
    [Theory]
    [InlineData("a@example.com")]
    [InlineData("  First.Last+tag@Sub.Example.co.uk ")]
    [InlineData("o'brien@example.ie")]
    [InlineData("user@例子.測試")]
    public void Accepted(string input) => Assert.Equal(input.Trim(), EmailAddresses.Normalize(input));

    [Theory]
    [InlineData("")]
    [InlineData("plain")]
    [InlineData("a@b")]
    [InlineData("a@@example.com")]
    [InlineData(".a@example.com")]
    [InlineData("a.@example.com")]
    [InlineData("a..b@example.com")]
    [InlineData("\"quoted\"@example.com")]
    [InlineData("Name <a@example.com>")]
    [InlineData("a@example.com, b@example.com")]
    [InlineData("a b@example.com")]
    [InlineData("a@-example.com")]
    [InlineData("a@example.123")]
    [InlineData("使用者@example.com")]
    [InlineData("a@example.com\r\nBcc: x@example.com")]
    public void Refused(string input) => Assert.Null(EmailAddresses.Normalize(input));

    [Fact]
    public void TooLong_IsRefused() => Assert.Null(EmailAddresses.Normalize(new string('a', 64) + "@" + new string('b', 190) + ".com"));

    [Fact]
    public void Key_IsLowerCase() => Assert.Equal("a.b@example.com", EmailAddresses.Key("A.B@Example.COM"));
}
