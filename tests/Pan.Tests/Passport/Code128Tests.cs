using Pan.Server.Passport;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Passport;

/// <summary>The Code 128 (set B) encoder: its pattern table, check symbol and rendering, decoded by zbarimg.</summary>
public sealed class Code128Tests
{
    [Fact]
    public void ThePatternTable_Has107UniqueSymbols_Of11Modules_AndA13ModuleStop()
    {
        Assert.Equal(107, Code128.Patterns.Count);
        Assert.Equal(107, Code128.Patterns.Distinct().Count());
        Assert.All(Code128.Patterns.Take(106), p => Assert.Equal(11, p.Sum(c => c - '0')));
        Assert.Equal(13, Code128.Patterns[Code128.Stop].Sum(c => c - '0'));
    }

    [Fact]
    public void Symbols_AreStartB_Characters_Check_Stop()
    {
        // "PJJ123C", the classic worked example: 104 + 48·1 + 42·2 + 42·3 + 17·4 + 18·5 + 19·6 + 35·7 = 879; 879 mod 103 = 55.
        Assert.Equal([104, 48, 42, 42, 17, 18, 19, 35, 55, 106], Code128.Symbols("PJJ123C"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("tab\there")]
    [InlineData("中文")]
    public void Symbols_RefuseWhatSetBCannotEncode(string text) =>
        Assert.Throws<ArgumentException>(() => Code128.Symbols(text));

    [Theory]
    [InlineData("PJJ123C")]
    [InlineData("aZ09-_xyzABCDEFghijkl")]
    [InlineData(" !\"#$%&'()*+,-./:;<=>?@[\\]^`{|}~")]
    public async Task ThePng_IsReadBackByAScanner(string text)
    {
        Assert.Equal(text, await Zbar.DecodeOneAsync(Code128.Png(text)));
    }
}
