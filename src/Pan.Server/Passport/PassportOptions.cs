using System.ComponentModel.DataAnnotations;

namespace Pan.Server.Passport;

/// <summary><c>Pan:Passport:*</c>.</summary>
public sealed class PassportOptions
{
    public const string Section = "Pan:Passport";

    /// <summary>Seconds a passport token (GetPassportToken) stays valid (default 60).</summary>
    [Range(10, 3600, ErrorMessage = "Pan:Passport:TokenSeconds must be 10–3600.")]
    public int TokenSeconds { get; set; } = 60;

    /// <summary>Seconds the verify_code of a member's QR code (GetQRCode) stays valid (default 600).</summary>
    [Range(30, 86400, ErrorMessage = "Pan:Passport:QrCodeSeconds must be 30–86400.")]
    public int QrCodeSeconds { get; set; } = 600;
}
