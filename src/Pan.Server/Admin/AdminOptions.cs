using System.ComponentModel.DataAnnotations;

namespace Pan.Server.Admin;

/// <summary><c>Pan:Admin:*</c>: staff sign-in with Google and admin tokens.</summary>
public sealed class AdminOptions : IValidatableObject
{
    public const string Section = "Pan:Admin";

    /// <summary>Lifetime of an admin token, in hours (default 8).</summary>
    [Range(1, 24 * 7, ErrorMessage = "Pan:Admin:TokenHours must be between 1 and 168.")]
    public int TokenHours { get; set; } = 8;

    public GoogleAdminOptions Google { get; set; } = new();

    public TimeSpan TokenLifetime => TimeSpan.FromHours(TokenHours);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var url = Google.TokenInfoUrl;
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            yield return new ValidationResult("Pan:Admin:Google:TokenInfoUrl must be an absolute http(s) URL.", ["Google.TokenInfoUrl"]);
        }

        if (Google.TimeoutSeconds is < 0.05 or > 60)
        {
            yield return new ValidationResult("Pan:Admin:Google:TimeoutSeconds must be between 0.05 and 60.", ["Google.TimeoutSeconds"]);
        }
    }
}

/// <summary><c>Pan:Admin:Google:*</c>.</summary>
public sealed class GoogleAdminOptions
{
    /// <summary>Google's token-information endpoint (GET ?access_token=…).</summary>
    public Uri TokenInfoUrl { get; set; } = new("https://oauth2.googleapis.com/tokeninfo");

    /// <summary>
    /// The OAuth client id of the admin console; a Google access token is accepted only when it was issued to this
    /// client (its aud or azp). Required for admin sign-in: while empty, GoogleLogin answers FAILED_PRECONDITION.
    /// </summary>
    public string? ClientId { get; set; }

    /// <summary>How long to wait for Google, in seconds (default 5); slower is UNAVAILABLE.</summary>
    public double TimeoutSeconds { get; set; } = 5;
}
