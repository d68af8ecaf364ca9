using System.ComponentModel.DataAnnotations;

namespace Pan.Server.Members;

/// <summary><c>Pan:Hashids:*</c>: how <c>hash_uid</c> is derived from <c>uid</c>.</summary>
public sealed class HashidsOptions
{
    public const string Section = "Pan:Hashids";

    /// <summary>Per-deployment salt. Required: changing it changes every member's hash_uid.</summary>
    [Required(ErrorMessage = "Pan:Hashids:Salt is required (a per-deployment string; changing it later changes every hash_uid).")]
    [MinLength(8, ErrorMessage = "Pan:Hashids:Salt must be at least 8 characters.")]
    public string Salt { get; set; } = string.Empty;

    /// <summary>Minimum length of a hash_uid (default 8).</summary>
    [Range(0, 32, ErrorMessage = "Pan:Hashids:MinLength must be between 0 and 32.")]
    public int MinLength { get; set; } = 8;
}
