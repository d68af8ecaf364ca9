using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.AddressBooks;
using Pan.Data.Credentials;
using Pan.Data.Guests;
using Pan.Data.Imports;
using Pan.Server.Avatars;
using Pan.Server.Members;
using Pan.Server.Session;
using Pan.Server.Suspension;
using Pan.Server.Tokens;
using PanGender = Pan.Atom.Member.Gender;

namespace Pan.Server.Export;

/// <summary>
/// Reads, in the caller's transaction, everything Pan holds about one member and writes it as the export's JSON
/// document (<see cref="Version"/> names its format). Each table keyed by the member's uid or its account is either
/// read here or named in README ("Downloading your data") as left out, with the reason. Nothing secret is read: no
/// hash (password, security answer, token, code), no token or code, no payload of a queued message.
/// </summary>
public sealed partial class ExportDocument(PanDbContext db, HashUids hashUids, PhoneIds phoneIds, AvatarUrls avatars)
{
    /// <summary>The format's version: a field added keeps it; a field renamed, removed or changed in meaning bumps it.</summary>
    public const int Version = 2;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public async Task<string> BuildAsync(AccessTokenInfo caller, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var uid = caller.Uid;
        var member = await db.Members.AsNoTracking().Include(m => m.Account).SingleAsync(m => m.Uid == uid, cancellationToken);
        var sessions = await SessionsAsync(uid, now, cancellationToken);
        var audit = await AuditAsync(uid, member.ObjectId, member.AccountId, cancellationToken);
        var root = new JsonObject
        {
            ["export_version"] = Version,
            ["generated_at"] = DataExport.Time(now),
            ["member"] = new JsonObject
            {
                ["uid"] = member.Uid,
                ["object_id"] = member.ObjectId.ToString("D"),
                ["hash_uid"] = member.HashUid ?? hashUids.Encode(member.Uid),
                ["display_name"] = member.DisplayName,
                ["username"] = member.Username,
                ["email"] = member.Email,
                ["email_verified"] = member.EmailVerified,
                ["gender"] = Gender(member.Gender),
                ["avatar_url"] = avatars.For(member.AvatarKey),
                ["locale"] = member.Locale,
                ["is_owner"] = member.IsOwner,
                ["migration_status"] = member.MigrationStatus,
                ["vip_expire_date"] = Time(member.VipExpireDate),
                ["activate_ip"] = member.ActivateIp,
                ["activate_date"] = Time(member.ActivateDate),
                ["created"] = DataExport.Time(member.Created),
                ["modified"] = DataExport.Time(member.Modified),
            },
            ["account"] = await AccountAsync(member.Account!, uid, caller.ProvesThePhone, cancellationToken),
            ["credentials"] = await CredentialsAsync(uid, cancellationToken),
            ["sign_in_failures"] = await FailuresAsync(uid, cancellationToken),
            ["address_books"] = await AddressBooksAsync(uid, cancellationToken),
            ["social_identities"] = await SocialIdentitiesAsync(uid, cancellationToken),
            ["passkeys"] = await PasskeysAsync(uid, cancellationToken),
            ["oauth_consents"] = await OAuthConsentsAsync(member.ObjectId, cancellationToken),
            ["app_tokens"] = await AppTokensAsync(uid, member.TokenGeneration, member.ObjectId, now, cancellationToken),
            ["sessions"] = sessions.Sessions,
            ["sessions_total"] = sessions.Total,
            ["guest"] = await GuestAsync(uid, cancellationToken),
            ["suspension"] = Suspension(member.SuspendedUntil, now),
            ["imported_from"] = await ImportsAsync(uid, cancellationToken),
            ["messages_sent"] = await MessagesAsync(uid, cancellationToken),
            ["audit_log"] = audit.Lines,
            ["audit_log_total"] = audit.Total,
        };
        return root.ToJsonString(Indented);
    }

    /// <summary>
    /// The phone-level account: its phone and, of its other live members, the uid and display name only; none to a
    /// session that proved one member rather than the phone (<paramref name="provesThePhone"/> false), as OtherMember
    /// answers such a session an empty list: which members share the phone is the phone holder's to see.
    /// </summary>
    private async Task<JsonObject> AccountAsync(Pan.Data.Accounts.Account account, long uid, bool provesThePhone, CancellationToken cancellationToken)
    {
        var others = provesThePhone
            ? await db.Members.AsNoTracking()
                .Where(m => m.AccountId == account.Id && m.Deleted == null && m.Uid != uid)
                .OrderBy(m => m.Uid)
                .Select(m => new { m.Uid, m.DisplayName })
                .ToListAsync(cancellationToken)
            : [];
        return new JsonObject
        {
            ["phone_id"] = phoneIds.Encode(account.Id),
            ["phone"] = account.PhoneE164,
            ["phone_country_code"] = account.PhoneE164 is null ? null : account.PhoneCountryCode,
            ["created"] = DataExport.Time(account.Created),
            ["is_default_member"] = account.DefaultMemberUid == uid,
            ["other_members"] = Array(others.Select(o => new JsonObject { ["uid"] = o.Uid, ["display_name"] = o.DisplayName })),
        };
    }

    /// <summary>Whether a password and a security question are set, and when; the question as the member wrote it. Never a hash or the answer.</summary>
    private async Task<JsonObject> CredentialsAsync(long uid, CancellationToken cancellationToken)
    {
        var row = await db.Set<MemberCredential>().AsNoTracking()
            .Where(c => c.Uid == uid)
            .Select(c => new { HasPassword = c.PasswordHash != null, c.PasswordChanged, HasQuestion = c.SecurityAnswerHash != null, c.SecurityQuestion, c.SecurityQuestionChanged })
            .SingleOrDefaultAsync(cancellationToken);
        return new JsonObject
        {
            ["password_set"] = row?.HasPassword ?? false,
            ["password_changed"] = row?.HasPassword == true ? Time(row.PasswordChanged) : null,
            ["security_question_set"] = row?.HasQuestion ?? false,
            ["security_question"] = row?.HasQuestion == true ? row.SecurityQuestion : null,
            ["security_question_changed"] = row?.HasQuestion == true ? Time(row.SecurityQuestionChanged) : null,
        };
    }

    private async Task<JsonObject?> FailuresAsync(long uid, CancellationToken cancellationToken)
    {
        var row = await db.Set<LoginFailure>().AsNoTracking().SingleOrDefaultAsync(f => f.Uid == uid, cancellationToken);
        return row is null ? null : new JsonObject
        {
            ["consecutive_failures"] = row.ConsecutiveFailures,
            ["last_failure"] = DataExport.Time(row.LastFailure),
            ["locked_until"] = Time(row.LockedUntil),
        };
    }

    private async Task<JsonArray> AddressBooksAsync(long uid, CancellationToken cancellationToken)
    {
        var rows = await db.Set<AddressBook>().AsNoTracking().Where(a => a.Uid == uid).OrderBy(a => a.Id).ToListAsync(cancellationToken);
        return Array(rows.Select(a => new JsonObject
        {
            ["id"] = a.Id,
            ["full_name"] = a.FullName,
            ["zip_code"] = a.ZipCode,
            ["address"] = a.Address,
            ["phone"] = a.Phone,
            ["platform"] = a.Platform,
            ["default_buyer"] = a.DefaultBuyer,
            ["type"] = a.Type switch { 1 => "main_live", 2 => "main_shipping", _ => "none" },
            ["created"] = DataExport.Time(a.Created),
            ["modified"] = DataExport.Time(a.Modified),
        }));
    }

    /// <summary>The apinode side of a member made as a guest; never its pending password's hash or an activation's secret.</summary>
    private async Task<JsonObject?> GuestAsync(long uid, CancellationToken cancellationToken)
    {
        var guest = await db.Set<GuestAccount>().AsNoTracking().SingleOrDefaultAsync(g => g.Uid == uid, cancellationToken);
        if (guest is null)
        {
            return null;
        }

        var activations = await db.Set<GuestActivation>().AsNoTracking().Where(a => a.Uid == uid).OrderBy(a => a.Id)
            .Select(a => new { a.Scheme, a.Target, a.Created, a.Expires, a.UsedAt })
            .ToListAsync(cancellationToken);
        return new JsonObject
        {
            ["app_id"] = guest.AppId,
            ["temporary"] = guest.Temporary,
            ["name_type"] = guest.NameType,
            ["account_name"] = guest.AccountName,
            ["mobile"] = guest.MobileE164,
            ["mobile_verified"] = guest.MobileVerified,
            ["contact_email"] = guest.ContactEmail,
            ["first_name"] = guest.FirstName,
            ["last_name"] = guest.LastName,
            ["address"] = guest.Address,
            ["aux"] = guest.Aux,
            ["activation_scheme"] = guest.ActScheme switch { 1 => "email", 2 => "sms", _ => "none" },
            ["activation_pending"] = guest.PendingPasswordHash is not null,
            ["activated"] = Time(guest.Activated),
            ["created"] = DataExport.Time(guest.Created),
            ["created_ip"] = guest.CreatedIp,
            ["converted"] = Time(guest.Converted),
            ["activations"] = Array(activations.Select(a => new JsonObject
            {
                ["scheme"] = a.Scheme == 2 ? "sms" : "email",
                ["sent_to"] = a.Target,
                ["created"] = DataExport.Time(a.Created),
                ["expires"] = DataExport.Time(a.Expires),
                ["used"] = Time(a.UsedAt),
            })),
        };
    }

    private async Task<JsonArray> ImportsAsync(long uid, CancellationToken cancellationToken)
    {
        var rows = await db.Set<ImportMapEntry>().AsNoTracking().Where(i => i.Uid == uid).ToListAsync(cancellationToken);
        return Array(rows.OrderBy(i => i.Imported).Select(i => new JsonObject
        {
            ["source"] = i.Source,
            ["legacy_id"] = i.LegacyId,
            ["imported"] = DataExport.Time(i.Imported),
        }));
    }

    /// <summary>The member's suspension while it lasts: its end, or null for one that lasts until restored.</summary>
    private static JsonObject? Suspension(DateTimeOffset? until, DateTimeOffset now) => until is { } end && end > now
        ? new JsonObject { ["until"] = end < MemberSuspensions.Indefinitely ? DataExport.Time(end) : null }
        : null;

    private static string Gender(int value) => (PanGender)value switch
    {
        PanGender.Male => "male",
        PanGender.Female => "female",
        _ => "not_set",
    };

    private static string? Time(DateTimeOffset? value) => value is { } v ? DataExport.Time(v) : null;

    private static JsonArray Array(IEnumerable<JsonNode> items) => new([.. items]);
}
