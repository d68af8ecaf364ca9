using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;
using Pan.Data.Members;
using Pan.Server.Avatars;
using Pan.Server.Session;
using PanGender = Pan.Atom.Member.Gender;
using PanObject = Pan.Atom.Member.Object;
using PanTokenInfo = Pan.Atom.Member.TokenInfo;

namespace Pan.Server.Members;

/// <summary>
/// Maps a stored member to the seed's <c>pan.atom.member.Object</c>. Pure: it never queries, so callers load what
/// a view needs in their own (batched) query and no list turns into N+1 queries.
/// <list type="bullet">
/// <item>Public view (everyone): object_id (Guid "D" form), uid, username, avatar, activate, activate_date,
/// display_name, gender, vip_expire_date, hash_uid, is_owner, created, modified.</item>
/// <item>Self view adds what the seed marks "visible only to the member" and what is personal: phone (E.164),
/// phone_id, email, email_verified, email_status, activate_ip and can_new_child (it describes the phone: false without one).</item>
/// <item>avatar: see <see cref="AvatarUrls"/> (an uploaded avatar's URL under <c>Pan:Links:PublicBaseUrl</c>, a
/// legacy absolute URL as is, else <c>Pan:Members:DefaultAvatarUrl</c>).</item>
/// <item>activate: true when activate_date is set, or the member was created in Pan (migration status unset,
/// STATUS_NEW_PAN or STATUS_VALID_PAN), since Pan members verify a phone to exist.</item>
/// <item>email_status: the legacy (Discuz!) emailstatus, 1 when the email is verified, else 0.</item>
/// <item>group_id / group_name: deprecated in the seed and left empty.</item>
/// </list>
/// </summary>
public sealed class ObjectMapper(HashUids hashUids, PhoneIds phoneIds, IOptions<MemberViewOptions> options, AvatarUrls avatarUrls)
{
    /// <summary>
    /// <paramref name="self"/> is true only when the caller is the member themself: then the fields marked
    /// "visible only to the member" (phone, phone_id) are filled; otherwise they stay empty. The self view needs
    /// <c>member.Account</c> loaded (for the phone); can_new_child stays false here — pass the phone's live member
    /// count to <see cref="ToObject(Member, bool, int?)"/> to fill it.
    /// </summary>
    public PanObject ToObject(Member member, bool self) => ToObject(member, self, liveMembersUnderPhone: null);

    /// <summary>
    /// As <see cref="ToObject(Member, bool)"/>; <paramref name="liveMembersUnderPhone"/> (the number of live members
    /// under the member's phone, the member included) fills can_new_child in the self view.
    /// </summary>
    public PanObject ToObject(Member member, bool self, int? liveMembersUnderPhone)
    {
        ArgumentNullException.ThrowIfNull(member);
        var result = new PanObject
        {
            ObjectId = member.ObjectId.ToString("D"),
            Uid = member.Uid,
            Username = member.Username ?? string.Empty,
            Avatar = avatarUrls.For(member.AvatarKey),
            Activate = IsActivated(member),
            ActivateDate = Time(member.ActivateDate),
            DisplayName = member.DisplayName ?? string.Empty,
            Gender = (PanGender)member.Gender,
            VipExpireDate = Time(member.VipExpireDate),
            HashUid = member.HashUid ?? hashUids.Encode(member.Uid),
            IsOwner = member.IsOwner,
            Created = Timestamp.FromDateTimeOffset(member.Created),
            Modified = Timestamp.FromDateTimeOffset(member.Modified),
        };
        if (!self)
        {
            return result;
        }

        var account = member.Account
            ?? throw new InvalidOperationException("The self view of a member needs member.Account loaded (for its phone).");
        result.Phone = account.PhoneE164 ?? string.Empty;
        result.PhoneId = phoneIds.Encode(member.AccountId);
        result.Email = member.Email ?? string.Empty;
        result.EmailVerified = member.EmailVerified;
        result.EmailStatus = member.EmailVerified ? 1 : 0;
        result.ActivateIp = member.ActivateIp ?? string.Empty;
        // Why the phone: NewMember adds members under a phone only; a member without one (imported, guest) cannot add any.
        result.CanNewChild = account.PhoneE164 is not null && liveMembersUnderPhone is { } live && live < options.Value.MaxPerPhone;
        return result;
    }

    /// <summary>The seed's TokenInfo (ValidateAccessToken): whom an access token belongs to. group_id/group_name stay empty.</summary>
    public PanTokenInfo ToTokenInfo(Member member)
    {
        ArgumentNullException.ThrowIfNull(member);
        return new PanTokenInfo
        {
            ObjectId = member.ObjectId.ToString("D"),
            Uid = member.Uid,
            Username = member.Username ?? string.Empty,
            DisplayName = member.DisplayName ?? string.Empty,
            PhoneId = phoneIds.Encode(member.AccountId),
        };
    }

    private static bool IsActivated(Member member) =>
        member.ActivateDate is not null || member.MigrationStatus is MigrationStatuses.Unset or MigrationStatuses.NewPan or MigrationStatuses.ValidPan;

    private static Timestamp? Time(DateTimeOffset? value) => value is { } v ? Timestamp.FromDateTimeOffset(v) : null;
}
