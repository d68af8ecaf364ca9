using System.Globalization;

namespace Pan.Server.Passport;

/// <summary>
/// What a member's QR code (GetQRCode) encodes: <c>pan://member?uuid={object_id}&amp;uid={uid}&amp;verify_code={code}</c>.
/// A scanning app reads the three values and asks ValidateQRCode whether Pan issued them for that member.
/// </summary>
public static class QrPayload
{
    public static string Text(Guid objectId, long uid, string verifyCode) =>
        $"pan://member?uuid={objectId:D}&uid={uid.ToString(CultureInfo.InvariantCulture)}&verify_code={verifyCode}";
}
