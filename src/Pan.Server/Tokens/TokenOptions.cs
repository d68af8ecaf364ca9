using System.ComponentModel.DataAnnotations;

namespace Pan.Server.Tokens;

/// <summary><c>Pan:Tokens:*</c>: lifetimes of Pan's tokens and how often the auth-token signing key rotates.</summary>
public sealed class TokenOptions
{
    public const string Section = "Pan:Tokens";

    /// <summary>A new signing key is created when the current one is older than this many days (default 30).</summary>
    [Range(1, 365, ErrorMessage = "Pan:Tokens:KeyRotationDays must be between 1 and 365.")]
    public int KeyRotationDays { get; set; } = 30;

    /// <summary>Lifetime of a phone-level auth token and its server-side session, in days (default 30).</summary>
    [Range(1, 365, ErrorMessage = "Pan:Tokens:AuthTokenDays must be between 1 and 365.")]
    public int AuthTokenDays { get; set; } = 30;

    /// <summary>Lifetime of a per-app access token, in hours (default 24); never beyond its auth session.</summary>
    [Range(1, 24 * 90, ErrorMessage = "Pan:Tokens:AccessTokenHours must be between 1 and 2160.")]
    public int AccessTokenHours { get; set; } = 24;

    /// <summary>Lifetime of a single-use step-up verify token, in minutes (default 5).</summary>
    [Range(1, 60, ErrorMessage = "Pan:Tokens:VerifyTokenMinutes must be between 1 and 60.")]
    public int VerifyTokenMinutes { get; set; } = 5;

    /// <summary>
    /// Most access tokens this node keeps checked copies of (default 100,000; 0 turns the cache off). See
    /// <see cref="AccessTokenCache"/>: copies are dropped by any change to the token's member, account or session.
    /// </summary>
    [Range(0, 10_000_000, ErrorMessage = "Pan:Tokens:CacheEntries must be between 0 and 10000000.")]
    public int CacheEntries { get; set; } = 100_000;

    /// <summary>A cached token check is re-read from the database at least this often, in seconds (default 30).</summary>
    [Range(1, 3600, ErrorMessage = "Pan:Tokens:CacheSeconds must be between 1 and 3600.")]
    public int CacheSeconds { get; set; } = 30;

    public TimeSpan KeyRotation => TimeSpan.FromDays(KeyRotationDays);

    public TimeSpan AuthTokenLifetime => TimeSpan.FromDays(AuthTokenDays);

    public TimeSpan AccessTokenLifetime => TimeSpan.FromHours(AccessTokenHours);

    public TimeSpan VerifyTokenLifetime => TimeSpan.FromMinutes(VerifyTokenMinutes);
}
