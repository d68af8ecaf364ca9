using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Pan.Server.Passkeys;

/// <summary>
/// <c>Pan:Passkeys:*</c>: the WebAuthn relying party Pan is for passkeys. Off (every passkey rpc answers
/// FAILED_PRECONDITION PasskeysOff) until <see cref="RelyingPartyId"/> is set; once any of the three relying-party
/// settings is set, all must be, or the server does not start.
/// </summary>
public sealed class PasskeyOptions
{
    public const string Section = "Pan:Passkeys";

    /// <summary>The RP ID: the registrable domain the passkeys belong to (e.g. <c>example.com</c>), without scheme or port.</summary>
    public string? RelyingPartyId { get; set; }

    /// <summary>The name authenticators show for the RP (e.g. the app maker's name).</summary>
    public string? RelyingPartyName { get; set; }

    /// <summary>
    /// The origins whose pages (or apps) may run the ceremonies: <c>https://</c> origins on <see cref="RelyingPartyId"/> or
    /// a subdomain of it (<c>http://localhost</c> for development), and Android apps' <c>android:apk-key-hash:…</c>.
    /// </summary>
    public List<string> Origins { get; set; } = [];

    /// <summary>Most passkeys one member may hold (default 10): the options of a registration list them all.</summary>
    [Range(1, 100, ErrorMessage = "Pan:Passkeys:MaxPerMember must be 1–100.")]
    public int MaxPerMember { get; set; } = 10;

    /// <summary>Failed passkey sign-ins one client address may make per hour (default 30), then TooManyAttempts.</summary>
    [Range(1, 100_000, ErrorMessage = "Pan:Passkeys:FailuresPerIpPerHour must be 1–100000.")]
    public int FailuresPerIpPerHour { get; set; } = 30;

    /// <summary>Passkey sign-ins one client address may begin per hour (default 600): each stores a challenge.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Pan:Passkeys:SignInsPerIpPerHour must be 1–1000000.")]
    public int SignInsPerIpPerHour { get; set; } = 600;

    /// <summary>
    /// Whether the authenticator must verify its user (PIN, fingerprint, face) at registration and sign-in:
    /// <c>required</c> (default) or <c>preferred</c>. A passkey sign-in replaces the SMS code and the password, so by
    /// default it must prove both the device and its user; <c>preferred</c> also takes security keys without a PIN, whose
    /// sign-in then proves the device alone (as an SMS code proves the phone alone).
    /// </summary>
    public string UserVerification { get; set; } = "required";

    /// <summary><see cref="UserVerification"/> as WebAuthn's requirement (checked at start-up).</summary>
    public Fido2NetLib.Objects.UserVerificationRequirement UserVerificationRequirement =>
        string.Equals(UserVerification?.Trim(), "preferred", StringComparison.OrdinalIgnoreCase)
            ? Fido2NetLib.Objects.UserVerificationRequirement.Preferred
            : Fido2NetLib.Objects.UserVerificationRequirement.Required;

    /// <summary>How long a begun registration or sign-in may be finished.</summary>
    public static readonly TimeSpan ChallengeLifetime = TimeSpan.FromMinutes(5);

    public bool Enabled => !string.IsNullOrWhiteSpace(RelyingPartyId);
}

/// <summary>Start-up rules for <c>Pan:Passkeys</c>; every failure names its setting.</summary>
internal sealed class PasskeyOptionsValidator : IValidateOptions<PasskeyOptions>
{
    private const string AndroidOrigin = "android:apk-key-hash:";

    public ValidateOptionsResult Validate(string? name, PasskeyOptions options)
    {
        var failures = new List<string>();
        if (options.UserVerification?.Trim().ToLowerInvariant() is not ("required" or "preferred"))
        {
            failures.Add($"Pan:Passkeys:UserVerification '{options.UserVerification}' must be 'required' or 'preferred'.");
        }

        var any = !string.IsNullOrWhiteSpace(options.RelyingPartyId) || !string.IsNullOrWhiteSpace(options.RelyingPartyName) || options.Origins.Count > 0;
        if (!any)
        {
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }

        var rpId = options.RelyingPartyId?.Trim() ?? string.Empty;
        if (!IsDomain(rpId))
        {
            failures.Add($"Pan:Passkeys:RelyingPartyId '{options.RelyingPartyId}' must be a lower-case domain name (example.com) without scheme, port or path, once any Pan:Passkeys relying-party setting is set.");
        }

        if (string.IsNullOrWhiteSpace(options.RelyingPartyName) || options.RelyingPartyName.Length > 64)
        {
            failures.Add("Pan:Passkeys:RelyingPartyName is required (at most 64 characters) once any Pan:Passkeys relying-party setting is set.");
        }

        if (options.Origins.Count == 0)
        {
            failures.Add("Pan:Passkeys:Origins must list at least one origin (https://example.com) once any Pan:Passkeys relying-party setting is set.");
        }

        var invalid = options.Origins.Where(o => !IsOrigin(o, rpId)).ToList();
        if (invalid.Count > 0)
        {
            failures.Add($"Pan:Passkeys:Origins: '{string.Join("', '", invalid)}' is not an https origin on the RP ID or a subdomain of it (scheme and host, no path), http://localhost, or android:apk-key-hash:….");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsDomain(string host) =>
        host.Length > 0 && !host.Any(char.IsAsciiLetterUpper) && Uri.CheckHostName(host) == UriHostNameType.Dns && !host.EndsWith('.');

    private static bool IsOrigin(string? origin, string rpId)
    {
        if (string.IsNullOrWhiteSpace(origin))
        {
            return false;
        }

        if (origin.StartsWith(AndroidOrigin, StringComparison.Ordinal))
        {
            return origin.Length > AndroidOrigin.Length;
        }

        if (!Uri.TryCreate(origin, UriKind.Absolute, out var url) || url.AbsolutePath != "/" || origin.EndsWith('/')
            || !string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.Fragment) || !string.IsNullOrEmpty(url.UserInfo))
        {
            return false;
        }

        var host = url.IdnHost;
        if (url.Scheme == Uri.UriSchemeHttp)
        {
            // Why: browsers treat http://localhost as a secure context, so development pages run the ceremonies there.
            return host == "localhost" && rpId == "localhost";
        }

        return url.Scheme == Uri.UriSchemeHttps
            && (host == rpId || host.EndsWith("." + rpId, StringComparison.Ordinal));
    }
}
