using Pan.Server.Credentials;

namespace Pan.Tests.Credentials;

/// <summary>The password rules of SECURITY 1 (SP 800-63B 5.1.1.2), without a server.</summary>
public sealed class PasswordPolicyTests
{
    private static readonly string[] NoContext = [];
    private readonly PasswordPolicy policy = new();

    [Fact]
    public void Length_IsCountedInCodePoints_SoEightEmojiAreEnough()
    {
        // Eight emoji are 16 UTF-16 units but 8 code points; seven are too short even though they are 14 units.
        Assert.Null(policy.Check("🦊🐙🦉🐳🦋🐢🦀🐝", NoContext));
        var problem = policy.Check("🦊🐙🦉🐳🦋🐢🦀", NoContext);
        Assert.NotNull(problem);
        Assert.Contains("at least 8", problem.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ShortPassword_IsRefused_WithTheReason()
    {
        Assert.Contains("at least 8", policy.Check("k7#qPz!", NoContext)!.Reason, StringComparison.Ordinal);
        Assert.Contains("at least 8", policy.Check(string.Empty, NoContext)!.Reason, StringComparison.Ordinal);
        Assert.Contains("at least 8", policy.Check(null, NoContext)!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void LongPassphrases_AreAccepted_UpTo256CodePoints_AndNeedNoCompositionRules()
    {
        Assert.Null(policy.Check("k7#qPz!w", NoContext));
        Assert.Null(policy.Check("all lower case words are fine here", NoContext));
        var sixtyFour = string.Concat(Enumerable.Range(0, 16).Select(i => "xq" + (char)('a' + i) + "7"));
        Assert.Equal(64, sixtyFour.Length);
        Assert.Null(policy.Check(sixtyFour, NoContext));
        var max = string.Concat(Enumerable.Repeat("平安喜樂🙂vz", 256 / 7)) + "平安喜樂";
        Assert.Equal(256, max.EnumerateRunes().Count());
        Assert.Null(policy.Check(max, NoContext));
        Assert.Contains("at most 256", policy.Check(max + "x", NoContext)!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void OneMegabytePassword_IsRefused_AndIsNeverHashable()
    {
        var huge = new string('x', 1024 * 1024);
        Assert.Contains("at most 256", policy.Check(huge, NoContext)!.Reason, StringComparison.Ordinal);
        Assert.False(PasswordPolicy.WithinHashableLength(huge));
    }

    [Theory]
    [InlineData("password")]
    [InlineData("Password123")]
    [InlineData("P@ssw0rd")]
    [InlineData("qwertyuiop")]
    [InlineData("1qaz2wsx")]
    [InlineData("woaini1314")]
    [InlineData("iloveyou2024")]
    [InlineData("sunshine2027!!")]
    [InlineData("ＰＡＳＳＷＯＲＤ")]
    public void CommonPasswords_AreRefused_CaseAndWidthInsensitively(string password)
    {
        Assert.Contains("common", policy.Check(password, NoContext)!.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("aaaaaaaaaa")]
    [InlineData("abababababab")]
    [InlineData("xyz!xyz!xyz!")]
    public void RepeatedPatterns_AreRefused(string password) =>
        Assert.Contains("repeats", policy.Check(password, NoContext)!.Reason, StringComparison.Ordinal);

    [Theory]
    [InlineData("abcdefghij")]
    [InlineData("ZYXWVUTSRQ")]
    [InlineData("34567890123")]
    public void Sequences_AreRefused(string password) =>
        Assert.Contains("sequence", policy.Check(password, NoContext)!.Reason, StringComparison.Ordinal);

    [Fact]
    public void BlockList_HoldsThousandsOfEntries() => Assert.InRange(PasswordPolicy.CommonCount, 2000, 50000);

    [Theory]
    [InlineData("x+886912345678")]
    [InlineData("call0912345678")]
    [InlineData("me-1234-5678!")]
    [InlineData("87654321mine")]
    public void PasswordsWithThePhoneDigits_AreRefused(string password)
    {
        var problem = policy.Check(password, ["+886912345678", null, "Alice Wang"]);
        Assert.NotNull(problem);
        Assert.Contains("phone number", problem.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("alice.wang@example.com")]
    [InlineData("ALICE.WANG99")]
    [InlineData("moc.elpmaxe@gnaw.ecila")]
    public void PasswordsFromTheEmail_AreRefused(string password) =>
        Assert.Contains("email", policy.Check(password, ["+886912345678", "Alice.Wang@example.com", "someone"])!.Reason, StringComparison.Ordinal);

    [Theory]
    [InlineData("BlueFalcon")]
    [InlineData("bluefalcon2024")]
    [InlineData("noclaf eulb")]
    [InlineData("my blue falcon!")]
    public void PasswordsFromTheDisplayName_AreRefused(string password) =>
        Assert.Contains("display name", policy.Check(password, [null, null, "Blue Falcon"])!.Reason, StringComparison.Ordinal);

    [Fact]
    public void UnrelatedPassword_WithContext_IsAccepted() =>
        Assert.Null(policy.Check("tangerine orbit 58", ["+886912345678", "alice@example.com", "Blue Falcon", "Al"]));
}
