namespace Pan.Data.Admins;

/// <summary>An allow-listed staff member: the Google account email that may sign in to the admin API, and its roles.</summary>
public sealed class AdminUser
{
    /// <summary>Lower-cased email of the staff member's Google account.</summary>
    public string Email { get; set; } = string.Empty;

    /// <summary>Role names, comma-separated (e.g. "member-admin,support").</summary>
    public string Roles { get; set; } = string.Empty;

    public DateTimeOffset Created { get; set; }
}
