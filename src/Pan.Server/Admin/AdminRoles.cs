namespace Pan.Server.Admin;

/// <summary>
/// The roles an allow-listed admin may hold and what they allow:
/// <list type="bullet">
/// <item><c>member-admin</c>: ChangeMemberPassword, ChangeMemberEmail, RemoveMemberAvatar, and Pan's SuspendMember, RestoreMember, BlockPhone, UnblockPhone and ListBlockedPhones.</item>
/// <item><c>support</c>: RemoveMemberAvatar (moderating pictures) and ListBlockedPhones.</item>
/// </list>
/// Any admin (whatever the roles) may sign in and validate their own token.
/// </summary>
public static class AdminRoles
{
    public const string MemberAdmin = "member-admin";
    public const string Support = "support";

    public static IReadOnlyList<string> All { get; } = [MemberAdmin, Support];

    /// <summary>The stored form (known role names, de-duplicated, comma-separated) of an operator's list, or the unknown name.</summary>
    public static (string? Stored, string? Unknown) Parse(string? list)
    {
        var roles = new List<string>();
        foreach (var role in (list ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var known = All.FirstOrDefault(r => string.Equals(r, role, StringComparison.OrdinalIgnoreCase));
            if (known is null)
            {
                return (null, role);
            }

            if (!roles.Contains(known))
            {
                roles.Add(known);
            }
        }

        return (string.Join(',', roles), null);
    }

    public static IReadOnlyList<string> Split(string stored) =>
        stored.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
