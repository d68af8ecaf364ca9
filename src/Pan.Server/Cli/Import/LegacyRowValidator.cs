using System.Globalization;
using Pan.Server.DisplayNames;
using Pan.Server.Members;
using Pan.Server.Phones;
using Pan.Server.Session;

namespace Pan.Server.Cli.Import;

/// <summary>A legacy member that passed the field checks, ready to be matched against the database.</summary>
public sealed record LegacyMember(
    int Line, string Source, string LegacyId, int MigrationStatus, string DisplayName, string? Username, string? Email,
    PhoneNumber? Phone, string? PasswordHash, DateTimeOffset? Created);

/// <summary>
/// The field checks of one import row (no database): the fields are <c>legacy_id</c> (required), <c>migration_status</c>
/// (required: 2 / OLD_JKF / STATUS_OLD_JKF, or 3 / OLD_1128 / STATUS_OLD_1128; it also names the legacy store, the
/// import key's source), <c>display_name</c> (required, Pan's display-name rules), <c>username</c>, <c>email</c>,
/// <c>phone</c> (E.164, or a national number with <c>country</c> as calling code or ISO region), <c>password_hash</c>
/// (<see cref="LegacyPasswordFormats"/>) and <c>created</c> (ISO 8601, or Unix seconds). Unknown fields are ignored.
/// </summary>
public sealed class LegacyRowValidator(PhoneNumbers phones)
{
    public const int MaxLegacyIdLength = 64;
    public const int MaxUsernameLength = 128;

    /// <summary>The validated member, or the first problem ("field: what is wrong").</summary>
    public (LegacyMember? Member, string? Problem) Validate(LegacyRecord record)
    {
        if (record.Problem is not null)
        {
            return (null, record.Problem);
        }

        string? Field(string name) => record.Fields.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;

        var legacyId = Field("legacy_id");
        if (legacyId is null)
        {
            return (null, "legacy_id: is required");
        }

        if (legacyId.Length > MaxLegacyIdLength || legacyId.Any(char.IsControl))
        {
            return (null, $"legacy_id: must be at most {MaxLegacyIdLength} printable characters");
        }

        var (status, source) = Field("migration_status")?.ToUpperInvariant() switch
        {
            "2" or "OLD_JKF" or "STATUS_OLD_JKF" => (MigrationStatuses.OldJkf, "jkf"),
            "3" or "OLD_1128" or "STATUS_OLD_1128" => (MigrationStatuses.Old1128, "1128"),
            null => (0, "migration_status: is required"),
            _ => (0, "migration_status: must be 2 (OLD_JKF) or 3 (OLD_1128)"),
        };
        if (status == 0)
        {
            return (null, source);
        }

        var displayName = DisplayNameRules.Clean(Field("display_name"));
        switch (DisplayNameRules.Check(displayName))
        {
            case DisplayNameProblem.Length:
                return (null, $"display_name: must be {DisplayNameRules.MinLength} to {DisplayNameRules.MaxLength} characters");
            case DisplayNameProblem.SpecialCharacter:
                return (null, "display_name: may hold only letters, digits, single spaces, '_', '-' and '.'");
        }

        var username = Field("username");
        if (username is not null && (username.Length > MaxUsernameLength || username.Any(char.IsControl)))
        {
            return (null, $"username: must be at most {MaxUsernameLength} printable characters");
        }

        string? email = null;
        if (Field("email") is { } rawEmail && (email = EmailAddresses.Normalize(rawEmail)) is null)
        {
            return (null, "email: is not a valid email address");
        }

        PhoneNumber? phone = null;
        if (Field("phone") is { } rawPhone)
        {
            var country = Field("country");
            phone = rawPhone.StartsWith('+') ? phones.Parse(country, rawPhone) : country is null ? null : phones.Parse(country, rawPhone);
            if (phone is null)
            {
                return (null, country is null && !rawPhone.StartsWith('+')
                    ? "phone: a national number needs country (calling code or ISO region)"
                    : "phone: is not a valid phone number");
            }
        }

        var passwordHash = Field("password_hash");
        if (passwordHash is not null && LegacyPasswordFormats.Check(passwordHash) is { } hashProblem)
        {
            return (null, "password_hash: " + hashProblem);
        }

        DateTimeOffset? created = null;
        if (Field("created") is { } rawCreated)
        {
            created = ParseInstant(rawCreated);
            if (created is null)
            {
                return (null, "created: must be an ISO 8601 date-time or Unix seconds");
            }
        }

        return (new LegacyMember(record.Line, source, legacyId, status, displayName, username, email, phone, passwordHash, created), null);
    }

    private static DateTimeOffset? ParseInstant(string value)
    {
        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds <= 253_402_300_799 ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var instant)
            ? instant
            : null;
    }
}
