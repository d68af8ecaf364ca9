using System.ComponentModel.DataAnnotations;

namespace Pan.Server.Links;

/// <summary><c>Pan:Links:*</c>: how Pan builds absolute links to itself (avatar URLs, email links).</summary>
public sealed class LinksOptions : IValidatableObject
{
    public const string Section = "Pan:Links";

    /// <summary>
    /// The public base URL of Pan's HTTP listener as clients reach it, e.g. <c>https://pan.example.com</c> (no query or
    /// fragment; a trailing slash is ignored). Links are built from it, never from the request's Host header. Empty
    /// (the default): avatar URLs are root-relative (<c>/avatars/…</c>).
    /// </summary>
    public string PublicBaseUrl { get; set; } = string.Empty;

    /// <summary><see cref="PublicBaseUrl"/> without a trailing slash.</summary>
    public string Base => PublicBaseUrl.TrimEnd('/');

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PublicBaseUrl.Length > 0
            && !(Uri.TryCreate(PublicBaseUrl, UriKind.Absolute, out var uri)
                && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
                && uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0))
        {
            yield return new ValidationResult(
                "Pan:Links:PublicBaseUrl must be empty or an absolute http(s) URL without query, fragment or user info.", [nameof(PublicBaseUrl)]);
        }
    }
}
