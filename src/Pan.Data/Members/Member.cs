namespace Pan.Data.Members;

/// <summary>
/// A member profile (the seed's <c>pan.atom.member.Object</c>). Several may live under one phone-level
/// <see cref="Accounts.Account"/>; each has its own display name, email, credentials and data.
/// </summary>
public sealed class Member
{
    /// <summary>Sequential public number (int64). Assigned by the database.</summary>
    public long Uid { get; set; }

    /// <summary>Stable public identifier (the seed's object_id / uuid).</summary>
    public Guid ObjectId { get; set; }

    /// <summary>Hashids encoding of <see cref="Uid"/> with the deployment's salt; unique.</summary>
    public string? HashUid { get; set; }

    public long AccountId { get; set; }

    public Accounts.Account? Account { get; set; }

    /// <summary>The name other members see. Null only for a deleted member (the name is freed).</summary>
    public string? DisplayName { get; set; }

    /// <summary>
    /// The uniqueness key of <see cref="DisplayName"/>: case- and width-folded (NFKC + case fold),
    /// so "Ａｌｉｃｅ" and "alice" cannot both exist. Unique across live members.
    /// </summary>
    public string? DisplayNameKey { get; set; }

    /// <summary>Legacy login name carried over from older member stores; unique when set.</summary>
    public string? Username { get; set; }

    public string? Email { get; set; }

    /// <summary>
    /// Lower-cased email. Unique among verified addresses (case-insensitive on every provider); several members may
    /// hold one address unverified, and none of them owns it until one verifies it.
    /// </summary>
    public string? EmailKey { get; set; }

    public bool EmailVerified { get; set; }

    /// <summary>0 = not set, 1 = male, 2 = female (the seed's pan.atom.member.Gender).</summary>
    public int Gender { get; set; }

    /// <summary>Storage key of the member's avatar; null means the default avatar.</summary>
    public string? AvatarKey { get; set; }

    public DateTimeOffset? VipExpireDate { get; set; }

    public string? ActivateIp { get; set; }

    public DateTimeOffset? ActivateDate { get; set; }

    /// <summary>True for the first member created under the phone (the phone's owner).</summary>
    public bool IsOwner { get; set; }

    /// <summary>The seed's MemberMigrationStatus value (1 = STATUS_NEW_PAN for members created in Pan).</summary>
    public int MigrationStatus { get; set; }

    /// <summary>Preferred language for messages: "en" or "zh-TW".</summary>
    public string Locale { get; set; } = "en";

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset Modified { get; set; }

    /// <summary>Set when the member was deleted; the row stays as a minimal tombstone.</summary>
    public DateTimeOffset? Deleted { get; set; }

    /// <summary>
    /// Set while an operator has suspended the member (a Pan extension): the member is suspended while this instant is
    /// in the future, so a suspension with an end lifts itself. An indefinite suspension stores
    /// <c>MemberSuspensions.Indefinitely</c> (9999-12-31T23:59:59Z). Null: not suspended.
    /// </summary>
    public DateTimeOffset? SuspendedUntil { get; set; }

    /// <summary>Bumped whenever the member's tokens must stop working (logout everywhere, credential change, deletion).</summary>
    public long TokenGeneration { get; set; }

    /// <summary>Optimistic concurrency token, bumped on every change.</summary>
    public long Version { get; set; }

    /// <summary>A field-by-field copy (navigations shared), for handing out a cached, untracked row.</summary>
    public Member Copy() => (Member)MemberwiseClone();
}
