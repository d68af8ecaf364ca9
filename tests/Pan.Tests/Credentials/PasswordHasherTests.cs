using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Pan.Server.Credentials;

namespace Pan.Tests.Credentials;

/// <summary>Argon2id through libsodium and the legacy formats (SECURITY 2 and 3), without a server.</summary>
public sealed class PasswordHasherTests : IDisposable
{
    private const string Password = "tangerine orbit 58";
    private readonly PasswordHasher weak = Hasher(memoryKiB: 8, iterations: 1);

    [Fact]
    public async Task Argon2id_RoundTrip_StoresItsParametersAndAFreshSalt()
    {
        var first = await weak.HashAsync(Password, default);
        var second = await weak.HashAsync(Password, default);
        Assert.StartsWith("$argon2id$v=19$m=8,t=1,p=1$", first, StringComparison.Ordinal);
        Assert.NotEqual(first, second);
        Assert.Equal(new PasswordCheck(true, false), await weak.VerifyAsync(Password, first, default));
        Assert.Equal(new PasswordCheck(false, false), await weak.VerifyAsync(Password + "!", first, default));
    }

    [Fact]
    public async Task DefaultParameters_AreTheOwaspFloor()
    {
        using var hasher = Hasher(Argon2Options.MinMemoryKiB, Argon2Options.MinIterations);
        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", await hasher.HashAsync(Password, default), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChangedParameters_AskForARehash_OnlyWhenThePasswordMatches()
    {
        var old = await weak.HashAsync(Password, default);
        using var stronger = Hasher(memoryKiB: 16, iterations: 2);
        Assert.Equal(new PasswordCheck(true, true), await stronger.VerifyAsync(Password, old, default));
        Assert.Equal(new PasswordCheck(false, false), await stronger.VerifyAsync("wrong password", old, default));
    }

    [Fact]
    public async Task NfkcEquivalentInput_Matches()
    {
        var hash = await weak.HashAsync("ｔａｎｇｅｒｉｎｅ orbit", default);
        Assert.True((await weak.VerifyAsync("tangerine orbit", hash, default)).Matches);
    }

    [Fact]
    public async Task Pbkdf2Sha1_Rfc6070Vector_MatchesAndAsksForARehash()
    {
        // RFC 6070: P = "password", S = "salt", c = 2, dkLen = 20.
        const string stored = "pbkdf2-sha1$2$c2FsdA==$6mwBTcctb4zNHtkqzh1B8NjeiVc=";
        Assert.Equal(new PasswordCheck(true, true), await weak.VerifyAsync("password", stored, default));
        Assert.Equal(new PasswordCheck(false, false), await weak.VerifyAsync("Password", stored, default));
    }

    [Fact]
    public async Task Md5Md5_LegacyForumHash_MatchesAndAsksForARehash()
    {
        // md5(md5("password") + "abc") and a salt containing '$', computed outside .NET.
        Assert.Equal(new PasswordCheck(true, true), await weak.VerifyAsync("password", "md5md5$abc$f24a0e9ce12069c72f77046ad708b655", default));
        Assert.True((await weak.VerifyAsync("密碼123456", "md5md5$x$y$3503f4429284f1ed7fd568e7eb71eb38", default)).Matches);
        Assert.False((await weak.VerifyAsync("passwore", "md5md5$abc$f24a0e9ce12069c72f77046ad708b655", default)).Matches);
    }

    [Theory]
    [InlineData("")]
    [InlineData("plain-text-password")]
    [InlineData("$argon2id$v=19$m=8,t=1,p=1$broken")]
    [InlineData("$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("pbkdf2-sha1$0$c2FsdA==$6mwBTcctb4zNHtkqzh1B8NjeiVc=")]
    [InlineData("pbkdf2-sha1$999999999$c2FsdA==$6mwBTcctb4zNHtkqzh1B8NjeiVc=")]
    [InlineData("pbkdf2-sha1$2$not base64$6mwBTcctb4zNHtkqzh1B8NjeiVc=")]
    [InlineData("md5md5$abc$zz4a0e9ce12069c72f77046ad708b655")]
    [InlineData("md5md5$abc")]
    public async Task UnreadableHashes_NeverMatch(string stored) =>
        Assert.Equal(new PasswordCheck(false, false), await weak.VerifyAsync("password", stored, default));

    [Fact]
    public async Task OversizedPassword_IsNeitherHashedNorVerified()
    {
        var huge = new string('x', 1024 * 1024);
        await Assert.ThrowsAsync<ArgumentException>(() => weak.HashAsync(huge, default));
        var stored = await weak.HashAsync(new string('x', 256), default);
        Assert.False((await weak.VerifyAsync(huge, stored, default)).Matches);
        Assert.True((await weak.VerifyAsync(new string('x', 256), stored, default)).Matches);
    }

    [Fact]
    public async Task ABurstOfHashes_AllComplete()
    {
        var hashes = await Task.WhenAll(Enumerable.Range(0, 4 * Environment.ProcessorCount).Select(i => weak.HashAsync(Password + i, default)));
        Assert.Equal(hashes.Length, hashes.Distinct().Count());
    }

    public void Dispose() => weak.Dispose();

    internal static PasswordHasher Hasher(int memoryKiB, int iterations) =>
        new(new FixedOptions<Argon2Options>(new Argon2Options { MemoryKiB = memoryKiB, Iterations = iterations, AllowWeakForTests = true }),
            NullLogger<PasswordHasher>.Instance);

    private sealed class FixedOptions<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;

        public T Get(string? name) => value;

        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }
}
