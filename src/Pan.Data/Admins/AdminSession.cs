namespace Pan.Data.Admins;

/// <summary>A signed-in staff member: the admin token (stored hashed) that GoogleLogin returned.</summary>
public sealed class AdminSession
{
    /// <summary>SHA-256 of the admin token's text (32 bytes).</summary>
    public byte[] Hash { get; set; } = [];

    /// <summary>The admin's email (see <see cref="AdminUser.Email"/>); removing the admin ends the session.</summary>
    public string Email { get; set; } = string.Empty;

    public DateTimeOffset Created { get; set; }

    public DateTimeOffset Expires { get; set; }
}
