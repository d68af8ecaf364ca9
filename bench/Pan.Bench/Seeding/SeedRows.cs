using System.Globalization;
using HashidsNet;
using Pan.Bench.Hosting;

namespace Pan.Bench.Seeding;

/// <summary>One seeded phone-level account and its only member (uid = account id = index, 1-based).</summary>
public sealed record SeedMember(
    long Uid,
    Guid ObjectId,
    string HashUid,
    string PhoneE164,
    string DisplayName,
    string DisplayNameKey,
    long CreatedMs);

/// <summary>
/// The seeded data, derived from the index alone so scenarios know every member's phone and name without reading the
/// database. Rows mirror what registration creates: owner member, default member of its account, STATUS_NEW_PAN,
/// zh-TW (a +886 phone), instants in Unix milliseconds, hash_uid = Hashids(uid) with the server's salt.
/// </summary>
public sealed class SeedRows
{
    /// <summary>National form prefix of seeded phones: 091 + 7 digits (+88691…), room for 10 million members.</summary>
    public const int MaxMembers = 10_000_000;

    /// <summary>The seed's MemberMigrationStatus STATUS_NEW_PAN, which registration gives every member it creates.</summary>
    public const int MigrationStatusNewPan = 1;

    public const string Locale = "zh-TW";

    public const string ActivateIp = "127.0.0.1";

    private readonly Hashids hashids = new(ServerProcess.HashidsSalt, 8);
    private readonly long baseMs = DateTimeOffset.UtcNow.AddDays(-30).ToUnixTimeMilliseconds();

    /// <summary>The national form of seeded phone <paramref name="index"/> (0912… style), as an app would send it.</summary>
    public static string NationalPhone(long index) => "091" + (index - 1).ToString("D7", CultureInfo.InvariantCulture);

    public static string E164Phone(long index) => "+88691" + (index - 1).ToString("D7", CultureInfo.InvariantCulture);

    public static string DisplayName(long index) => "bm" + index.ToString(CultureInfo.InvariantCulture);

    public long CreatedMs(long index) => baseMs + index;

    public SeedMember Member(long index)
    {
        var created = CreatedMs(index);
        var name = DisplayName(index);
        return new SeedMember(
            index,
            Guid.CreateVersion7(DateTimeOffset.FromUnixTimeMilliseconds(created)),
            hashids.EncodeLong(index),
            E164Phone(index),
            name,
            name.ToLowerInvariant(),
            created);
    }
}
