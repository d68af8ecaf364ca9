using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Pan.Server.Pages.SignIn;

/// <summary>When the member cookie carries the Secure flag.</summary>
public enum MemberCookieSecurity
{
    /// <summary>Always (production: the browser never sends it over plain HTTP).</summary>
    Always,

    /// <summary>Only when the request came over HTTPS (Development and tests on plain-HTTP loopback).</summary>
    SameAsRequest,
}

/// <summary><c>Pan:SignIn:*</c>: the browser session of the hosted sign-in pages.</summary>
public sealed class SignInOptions
{
    public const string Section = "Pan:SignIn";

    /// <summary>
    /// The Secure flag of the member cookie. Why Always by default: fail closed; a deployment on plain HTTP (only
    /// Development, on loopback) has to say so.
    /// </summary>
    public MemberCookieSecurity CookieSecure { get; set; } = MemberCookieSecurity.Always;

    /// <summary>Lifetime of the member cookie in hours (never past its Pan auth session, which is checked on every request).</summary>
    [Range(1, 24 * 30)]
    public int CookieHours { get; set; } = 12;

    /// <summary>Minutes the member chooser (after the SMS code, for a phone with several members) stays usable.</summary>
    [Range(1, 30)]
    public int ChooseMinutes { get; set; } = 10;

    public TimeSpan CookieLifetime => TimeSpan.FromHours(CookieHours);
}

/// <summary>
/// Fails closed: in the Production environment (the default when none is named) the member cookie is always Secure;
/// <see cref="MemberCookieSecurity.SameAsRequest"/> is for development and test servers on plain HTTP.
/// </summary>
internal sealed class SignInOptionsValidator(IHostEnvironment environment) : IValidateOptions<SignInOptions>
{
    public ValidateOptionsResult Validate(string? name, SignInOptions options) =>
        options.CookieSecure == MemberCookieSecurity.SameAsRequest && environment.IsProduction()
            ? ValidateOptionsResult.Fail("Pan:SignIn:CookieSecure may not be 'SameAsRequest' in Production; use 'Always' (serve the pages over HTTPS).")
            : ValidateOptionsResult.Success;
}
