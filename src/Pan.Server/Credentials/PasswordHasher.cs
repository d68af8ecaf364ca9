using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Pan.Server.Members;

namespace Pan.Server.Credentials;

/// <summary>The result of checking a password against a stored hash.</summary>
/// <param name="Matches">The password is right.</param>
/// <param name="NeedsRehash">The stored hash uses old parameters or a legacy algorithm: store a fresh Argon2id hash now.</param>
public readonly record struct PasswordCheck(bool Matches, bool NeedsRehash);

/// <summary>
/// Argon2id through libsodium (parameters stored with the hash, configurable), with verification of legacy formats
/// (PBKDF2-SHA1 as apinode stored them, salted double MD5 of the legacy forum). Hashes run on a
/// <see cref="HashingLane"/> one core wide, so a burst queues instead of exhausting memory or the thread pool.
/// </summary>
/// <remarks>
/// Stored formats (all compared in constant time):
/// <list type="bullet">
/// <item><c>$argon2id$v=19$m=&lt;KiB&gt;,t=&lt;passes&gt;,p=1$&lt;salt&gt;$&lt;hash&gt;</c>: libsodium's standard
/// encoding with a 16-byte random salt; the hashed input is the UTF-8 of the NFKC form of the password (SP 800-63B
/// 5.1.1.2), so the same password typed with another keyboard or input method still matches.</item>
/// <item><c>pbkdf2-sha1$&lt;iterations&gt;$&lt;base64 salt&gt;$&lt;base64 derived key&gt;</c>: apinode's
/// PBKDF2-HMAC-SHA1 over the UTF-8 bytes of the password as typed; the derived key length is that of the stored key.</item>
/// <item><c>md5md5$&lt;salt&gt;$&lt;32 hex digits&gt;</c>: the legacy forum's <c>md5(md5(password) + salt)</c>, where
/// md5() is lower-case hex and the password and salt are UTF-8.</item>
/// </list>
/// Any legacy match reports <see cref="PasswordCheck.NeedsRehash"/>; so does an Argon2id hash whose parameters differ
/// from the configured ones. Unreadable hashes never match.
/// </remarks>
public sealed class PasswordHasher : IDisposable
{
    /// <summary>Prefix of libsodium's Argon2id encoding.</summary>
    public const string Argon2Prefix = "$argon2id$";

    /// <summary>Prefix of apinode's PBKDF2-SHA1 hashes as imported.</summary>
    public const string Pbkdf2Prefix = "pbkdf2-sha1$";

    /// <summary>Prefix of the legacy forum's salted double-MD5 hashes as imported.</summary>
    public const string Md5Md5Prefix = "md5md5$";

    /// <summary>Imported PBKDF2 hashes with more iterations than this are treated as corrupt (no DoS through bad data).</summary>
    public const int MaxPbkdf2Iterations = 5_000_000;

    private readonly HashingLane lane = new(Environment.ProcessorCount);
    private readonly IOptionsMonitor<Argon2Options> options;
    private readonly ILogger<PasswordHasher> logger;
    private readonly Metrics.PanMetrics? metrics;
    private readonly Lazy<Task<string>> dummy;

    public PasswordHasher(IOptionsMonitor<Argon2Options> options, ILogger<PasswordHasher> logger, Metrics.PanMetrics? metrics = null)
    {
        this.options = options;
        this.logger = logger;
        this.metrics = metrics;
        dummy = new Lazy<Task<string>>(() => ComputeAsync(Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), CancellationToken.None));
    }

    /// <summary>A new Argon2id hash of <paramref name="password"/> with the configured parameters and a fresh salt.</summary>
    /// <exception cref="ArgumentException">The password is longer than <see cref="PasswordPolicy.MaxLength"/> code points (check the policy first).</exception>
    public async Task<string> HashAsync(string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!PasswordPolicy.WithinHashableLength(password))
        {
            throw new ArgumentException($"Passwords longer than {PasswordPolicy.MaxLength} code points are not hashed.", nameof(password));
        }

        var hash = await ComputeAsync(password, cancellationToken);
        metrics?.PasswordHash(Metrics.PasswordHashUses.Store);
        return hash;
    }

    private Task<string> ComputeAsync(string password, CancellationToken cancellationToken)
    {
        var (memory, iterations) = Parameters();
        return lane.RunAsync(() =>
        {
            var input = Argon2Input(password);
            try
            {
                var encoded = new char[Geralt.Argon2id.HashSize];
                Geralt.Argon2id.ComputeHash(encoded, input, iterations, memory);
                // Why: libsodium writes a NUL-terminated string into the fixed-size buffer.
                var end = Array.IndexOf(encoded, '\0');
                return new string(encoded, 0, end < 0 ? encoded.Length : end);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(input);
            }
        }, cancellationToken);
    }

    /// <summary>Checks <paramref name="password"/> against any supported stored format.</summary>
    public Task<PasswordCheck> VerifyAsync(string password, string storedHash, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(storedHash);
        // Why: an oversized password is refused before any expensive work (SECURITY 17); none was ever accepted.
        if (!PasswordPolicy.WithinHashableLength(password))
        {
            return Task.FromResult(new PasswordCheck(false, false));
        }

        if (storedHash.StartsWith(Argon2Prefix, StringComparison.Ordinal))
        {
            return CheckArgon2Async(password, storedHash, cancellationToken);
        }

        if (storedHash.StartsWith(Pbkdf2Prefix, StringComparison.Ordinal))
        {
            return AtArgon2CostAsync(password, lane.RunAsync(() => Legacy(VerifyPbkdf2(password, storedHash)), cancellationToken), cancellationToken);
        }

        if (storedHash.StartsWith(Md5Md5Prefix, StringComparison.Ordinal))
        {
            return AtArgon2CostAsync(password, Task.FromResult(Legacy(VerifyMd5Md5(password, storedHash))), cancellationToken);
        }

        logger.LogWarning("A stored password hash has an unknown format; it never matches");
        return AtArgon2CostAsync(password, Task.FromResult(new PasswordCheck(false, false)), cancellationToken);
    }

    /// <summary>
    /// <paramref name="check"/>'s answer, after one Argon2id verification against the dummy as well. Why: a legacy check
    /// takes microseconds (md5md5) or its imported iterations (pbkdf2-sha1), and an unreadable hash none, while an unknown
    /// member costs one Argon2id verification; answering sooner for an imported member would tell by the answer's timing
    /// that the name or email is a member's (SECURITY 15). Matches are as rare as the legacy hashes, which they replace.
    /// </summary>
    private async Task<PasswordCheck> AtArgon2CostAsync(string password, Task<PasswordCheck> check, CancellationToken cancellationToken)
    {
        var result = await check;
        await VerifyAgainstDummyAsync(password, cancellationToken);
        return result;
    }

    /// <summary>
    /// Spends the time of one Argon2id verification and answers "no". Used where there is no hash to check (unknown
    /// member, locked account) so those answers take as long as a wrong password.
    /// </summary>
    public async Task VerifyAgainstDummyAsync(string password, CancellationToken cancellationToken)
    {
        var hash = await dummy.Value;
        if (PasswordPolicy.WithinHashableLength(password))
        {
            await lane.RunAsync(() => VerifyArgon2(password, hash), cancellationToken);
            metrics?.PasswordHash(Metrics.PasswordHashUses.Dummy);
        }
    }

    private async Task<PasswordCheck> CheckArgon2Async(string password, string storedHash, CancellationToken cancellationToken)
    {
        var check = await lane.RunAsync(() => VerifyArgon2(password, storedHash), cancellationToken);
        metrics?.PasswordHash(Metrics.PasswordHashUses.Check);
        return check;
    }

    public void Dispose() => lane.Dispose();

    /// <summary>The configured (memory in bytes, iterations) as libsodium takes them.</summary>
    private (int MemoryBytes, int Iterations) Parameters()
    {
        var value = options.CurrentValue;
        return (value.MemoryKiB * 1024, value.Iterations);
    }

    private PasswordCheck VerifyArgon2(string password, string storedHash)
    {
        var input = Argon2Input(password);
        try
        {
            if (!Geralt.Argon2id.VerifyHash(storedHash, input))
            {
                return new PasswordCheck(false, false);
            }

            var (memory, iterations) = Parameters();
            return new PasswordCheck(true, Geralt.Argon2id.NeedsRehash(storedHash, iterations, memory));
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            logger.LogWarning("A stored Argon2id hash is unreadable ({Error}); it never matches", ex.GetType().Name);
            return new PasswordCheck(false, false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
        }
    }

    private bool VerifyPbkdf2(string password, string storedHash)
    {
        var parts = storedHash.Split('$');
        if (parts.Length != 4
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations)
            || iterations is < 1 or > MaxPbkdf2Iterations
            || !TryBase64(parts[2], out var salt)
            || !TryBase64(parts[3], out var expected)
            || expected.Length is < 16 or > 64)
        {
            logger.LogWarning("A stored PBKDF2 hash is unreadable; it never matches");
            return false;
        }

        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA1, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    private bool VerifyMd5Md5(string password, string storedHash)
    {
        // Why: split at the last '$' so a salt containing '$' still parses.
        var body = storedHash[Md5Md5Prefix.Length..];
        var cut = body.LastIndexOf('$');
        var salt = cut < 0 ? string.Empty : body[..cut];
        var hex = body[(cut + 1)..];
        if (cut < 0 || hex.Length != 32 || !TryHex(hex, out var expected))
        {
            logger.LogWarning("A stored double-MD5 hash is unreadable; it never matches");
            return false;
        }

#pragma warning disable CA5351 // Why: verifying the legacy forum's MD5 hashes is the only use; a match is re-hashed with Argon2id at once.
        var inner = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(password)));
        var actual = MD5.HashData(Encoding.UTF8.GetBytes(inner + salt));
#pragma warning restore CA5351
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>A legacy hash that matched is always replaced by Argon2id.</summary>
    private static PasswordCheck Legacy(bool matches) => new(matches, NeedsRehash: matches);

    // Why UnicodeText: a password being verified may hold U+FFFE; it is then hashed with U+FFFD and matches nothing the policy let in.
    private static byte[] Argon2Input(string password) => Encoding.UTF8.GetBytes(UnicodeText.Normalize(password, NormalizationForm.FormKC));

    private static bool TryBase64(string text, out byte[] bytes)
    {
        bytes = new byte[text.Length];
        if (Convert.TryFromBase64String(text, bytes, out var written) && written > 0)
        {
            bytes = bytes[..written];
            return true;
        }

        return false;
    }

    private static bool TryHex(string text, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromHexString(text);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
