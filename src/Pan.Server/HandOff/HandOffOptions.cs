using System.ComponentModel.DataAnnotations;

namespace Pan.Server.HandOff;

/// <summary><c>Pan:HandOff:*</c>: the cross-app sign-in hand-off.</summary>
public sealed class HandOffOptions
{
    public const string Section = "Pan:HandOff";

    /// <summary>Lifetime of a login token from MakeLoginToken, in minutes (default 5).</summary>
    [Range(1, 60, ErrorMessage = "Pan:HandOff:LoginTokenMinutes must be between 1 and 60.")]
    public int LoginTokenMinutes { get; set; } = 5;

    public TimeSpan LoginTokenLifetime => TimeSpan.FromMinutes(LoginTokenMinutes);
}
