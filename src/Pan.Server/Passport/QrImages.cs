using QRCoder;

namespace Pan.Server.Passport;

/// <summary>QR codes as PNG (QRCoder): error correction M, 8 pixels per module, with the standard 4-module quiet zone.</summary>
public static class QrImages
{
    public static byte[] Png(string text)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
        return new PngByteQRCode(data).GetGraphic(8);
    }
}
