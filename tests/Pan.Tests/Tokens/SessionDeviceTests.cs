using Pan.Data.Tokens;
using Pan.Server.Tokens;

namespace Pan.Tests.Tokens;

/// <summary>How a sign-in's User-Agent is kept for ListSessions (<see cref="SessionDevice.CleanUserAgent"/>).</summary>
public sealed class SessionDeviceTests
{
    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData(" \t ", null)]
    [InlineData("\u0000\u0007\u202e", null)]
    [InlineData("Mozilla/5.0 (X11)", "Mozilla/5.0 (X11)")]
    [InlineData("  a \t\r\n b  ", "a b")]
    [InlineData("evil\u0000\u001b[31mred\u007f", "evil[31mred")]
    [InlineData("app\u202egnp.exe\u200b", "appgnp.exe")]
    [InlineData("line\u2028\u2029break", "line break")]
    [InlineData("emoji \ud83d\ude00 ok", "emoji \ud83d\ude00 ok")]
    public void ControlAndFormatCharacters_AreRemoved_AndWhitespaceRunsAreOneSpace(string? value, string? expected) =>
        Assert.Equal(expected, SessionDevice.CleanUserAgent(value));

    [Fact]
    public void ALoneSurrogate_IsRemoved()
    {
        // Why not inline data: xUnit's serialization of test cases turns a lone surrogate into U+FFFD.
        Assert.Equal("lone high", SessionDevice.CleanUserAgent("lone \ud800 high"));
        Assert.Equal("lone low", SessionDevice.CleanUserAgent("lone \udc00low"));
    }

    [Fact]
    public void ALongValue_IsCutToTheColumnsWidth_NeverInsideASurrogatePair()
    {
        var max = AuthSession.MaxUserAgentLength;
        Assert.Equal(new string('x', max), SessionDevice.CleanUserAgent(new string('x', max + 50)));

        var pairAtTheEdge = new string('x', max - 1) + "\ud83d\ude00tail";
        var cut = SessionDevice.CleanUserAgent(pairAtTheEdge)!;
        Assert.Equal(new string('x', max - 1), cut);

        var controlsFirst = new string('\u0001', 10_000) + "real";
        Assert.Equal("real", SessionDevice.CleanUserAgent(controlsFirst));
    }
}
