using System.ComponentModel.DataAnnotations;

namespace Pan.Server.Members;

/// <summary><c>Pan:Members:*</c>.</summary>
public sealed class MembersOptions
{
    public const string Section = "Pan:Members";

    /// <summary>Most live members one phone may hold (default 5).</summary>
    [Range(1, 100, ErrorMessage = "Pan:Members:MaxPerPhone must be 1–100.")]
    public int MaxPerPhone { get; set; } = 5;
}
