using System.ComponentModel.DataAnnotations;

namespace Pan.Server.Session;

/// <summary><c>Pan:Members:*</c> settings used when a member is shown to clients (pan.atom.member.Object).</summary>
public sealed class MemberViewOptions : IValidatableObject
{
    public const string Section = "Pan:Members";

    /// <summary>The <c>avatar</c> of a member without an uploaded avatar (default empty).</summary>
    public string DefaultAvatarUrl { get; set; } = string.Empty;

    /// <summary>How many live members one phone may hold (default 5); <c>can_new_child</c> is true below it.</summary>
    [Range(1, 100, ErrorMessage = "Pan:Members:MaxPerPhone must be between 1 and 100.")]
    public int MaxPerPhone { get; set; } = 5;

    /// <summary>
    /// Public member views (ReadObject by uid) a node keeps copies of (default 10000, about 0.5 KB each; <c>0</c>: every
    /// read queries the database). See <see cref="PublicViewCache"/>.
    /// </summary>
    [Range(0, 10_000_000, ErrorMessage = "Pan:Members:PublicViewCacheEntries must be between 0 and 10000000.")]
    public int PublicViewCacheEntries { get; set; } = 10_000;

    /// <summary>A cached public view is read again from the database at least this often (default 30 seconds).</summary>
    [Range(1, 3600, ErrorMessage = "Pan:Members:PublicViewCacheSeconds must be between 1 and 3600.")]
    public int PublicViewCacheSeconds { get; set; } = 30;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (DefaultAvatarUrl.Length > 0
            && !(Uri.TryCreate(DefaultAvatarUrl, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)))
        {
            yield return new ValidationResult("Pan:Members:DefaultAvatarUrl must be empty or an absolute http(s) URL.", [nameof(DefaultAvatarUrl)]);
        }
    }
}
