using Pan.Server.Avatars;
using SkiaSharp;

namespace Pan.Tests.Avatars;

/// <summary>AvatarImages.Render on pictures built here (no server, no database: rendering is pure).</summary>
public sealed class AvatarImagesTests
{
    private static readonly SKColor Red = new(255, 0, 0), Green = new(0, 255, 0), Blue = new(0, 0, 255), Yellow = new(255, 255, 0);

    /// <summary>
    /// A progressive JPEG may hold any number of scans, each of which a decoder goes through block by block: the file
    /// built here is valid and decodes, and its scans are counted from its markers (SOS), without decoding, so an upload
    /// of too many is refused before it takes a decode slot.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(AvatarImages.MaxJpegScans)]
    [InlineData(AvatarImages.MaxJpegScans + 1)]
    [InlineData(ProgressiveJpeg.MostScans)]
    public void TheScansOfAProgressiveJpeg_AreCountedWithoutDecodingIt(int scans)
    {
        var jpeg = ProgressiveJpeg.Build(64, 48, scans);

        // Why the decoder is asked too: the file is a valid JPEG (the decoder refuses 100 scans or more itself, but
        // only once it has gone through 99 of them).
        Assert.Equal(scans <= AvatarImages.MaxJpegScans, AvatarImages.Render(jpeg, AvatarKeys.Sizes) is not null);
        Assert.Equal(scans, AvatarImages.JpegScans(jpeg));
        // Bytes after the end of the image (a trailing page) are not counted; a JPEG cut short counts what it has.
        Assert.Equal(scans, AvatarImages.JpegScans([.. jpeg, .. ProgressiveJpeg.Build(8, 8, 5)]));
        Assert.True(AvatarImages.JpegScans(jpeg.AsSpan(0, jpeg.Length / 2)) <= scans);
    }

    /// <summary>
    /// A picture stored on its side (EXIF orientation 6) that decodes at the limit (a JPEG 280 px wide, its short side
    /// the largest stored size, decodes at full size: 280 × 59918 is just under 4096² pixels) is turned upright without
    /// a second full-size copy: the pixel buffers the render holds at once are the decoded picture and one output
    /// square, the bound README gives for a decode (besides the mipmaps of resampling).
    /// </summary>
    [Fact]
    public void ARotatedPictureAtTheDecodeLimit_IsTurnedUpright_WithinTheMemoryOfOneDecodedPicture()
    {
        const int Width = 280;
        const int Height = (int)(AvatarImages.MaxDecodedPixels / Width);
        byte[] jpeg;
        using (var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Premul)))
        {
            // As stored: the top half green, the bottom half red. Shown per orientation 6, green is on the right.
            using (var canvas = new SKCanvas(bitmap))
            using (var green = new SKPaint { Color = Green })
            {
                canvas.Clear(Red);
                canvas.DrawRect(SKRect.Create(0, 0, Width, Height / 2), green);
            }

            jpeg = WithOrientation(Encode(bitmap, SKEncodedImageFormat.Jpeg), SKEncodedImageFormat.Jpeg, 6);
        }

        using (var codec = SKCodec.Create(new MemoryStream(jpeg)))
        {
            Assert.Equal(SKEncodedOrigin.RightTop, codec.EncodedOrigin);
        }

        var ledger = new PixelLedger();
        var rendered = AvatarImages.Render(jpeg, AvatarKeys.Sizes, ledger) ?? throw new Xunit.Sdk.XunitException("Not rendered.");

        var decoded = (long)Width * Height * 4;
        var square = (long)AvatarKeys.Sizes.Max() * AvatarKeys.Sizes.Max() * 4;
        Assert.True(ledger.Peak >= decoded, $"held {ledger.Peak} bytes at most: the picture was not decoded at full size");
        Assert.True(ledger.Peak <= decoded + square, $"held {ledger.Peak} bytes at once; one decoded picture and one square are {decoded + square}");
        foreach (var (size, bytes) in rendered)
        {
            using var output = SKBitmap.Decode(bytes);
            Assert.Equal(Green, Nearest(output.GetPixel(size * 4 / 5, size / 2)));
            Assert.Equal(Red, Nearest(output.GetPixel(size / 5, size / 2)));
        }
    }

    /// <summary>
    /// Every EXIF orientation (1–8) of a 600×400 or 300×200 JPEG of four coloured quarters, decoded at a reduced scale or at full
    /// size (its short side at most the largest stored size): each output square shows the centre of the picture as it
    /// is meant to be seen.
    /// </summary>
    /// <remarks>PNG is not here: SkiaSharp reads no orientation from a PNG's eXIf chunk, so a PNG is stored as it is.</remarks>
    [Theory]
    [MemberData(nameof(Orientations))]
    public void EveryOrientation_IsTurnedUpright_AndCroppedToTheCentre(int scale, int orientation)
    {
        var (width, height) = (600 * scale / 2, 400 * scale / 2);
        const SKEncodedImageFormat format = SKEncodedImageFormat.Jpeg;
        byte[] data;
        using (var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul)))
        {
            using (var canvas = new SKCanvas(bitmap))
            {
                foreach (var (x, y, colour) in new[] { (0, 0, Red), (1, 0, Green), (0, 1, Blue), (1, 1, Yellow) })
                {
                    using var paint = new SKPaint { Color = colour };
                    canvas.DrawRect(SKRect.Create(x * width / 2, y * height / 2, width / 2, height / 2), paint);
                }
            }

            data = WithOrientation(Encode(bitmap, format), format, orientation);
        }

        var rendered = AvatarImages.Render(data, AvatarKeys.Sizes) ?? throw new Xunit.Sdk.XunitException("Not rendered.");

        var swapped = orientation >= 5;
        var (shownWidth, shownHeight) = swapped ? (height, width) : (width, height);
        var side = Math.Min(shownWidth, shownHeight);
        foreach (var (size, bytes) in rendered)
        {
            using var output = SKBitmap.Decode(bytes);
            Assert.Equal((size, size), (output.Width, output.Height));
            foreach (var (u, v) in new[] { (0.2, 0.2), (0.8, 0.2), (0.2, 0.8), (0.8, 0.8) })
            {
                // Where the output point is in the picture as shown, then where that is in the picture as stored.
                var x = (((shownWidth - side) / 2.0) + (u * side)) / shownWidth;
                var y = (((shownHeight - side) / 2.0) + (v * side)) / shownHeight;
                var (sx, sy) = orientation switch
                {
                    1 => (x, y),
                    2 => (1 - x, y),
                    3 => (1 - x, 1 - y),
                    4 => (x, 1 - y),
                    5 => (y, x),
                    6 => (y, 1 - x),
                    7 => (1 - y, 1 - x),
                    _ => (1 - y, x),
                };
                var expected = (sx < 0.5, sy < 0.5) switch
                {
                    (true, true) => Red,
                    (false, true) => Green,
                    (true, false) => Blue,
                    _ => Yellow,
                };
                var pixel = output.GetPixel((int)(u * size), (int)(v * size));
                Assert.True(expected == Nearest(pixel), $"{width}x{height} orientation {orientation}, {size}px at ({u},{v}): {pixel}, expected {expected}");
            }
        }
    }

    /// <summary>Scale 2: 600×400, decoded at a reduced scale; scale 1: 300×200, decoded at full size.</summary>
    public static TheoryData<int, int> Orientations()
    {
        var data = new TheoryData<int, int>();
        foreach (var scale in new[] { 1, 2 })
        {
            for (var orientation = 1; orientation <= 8; orientation++)
            {
                data.Add(scale, orientation);
            }
        }

        return data;
    }

    private static SKColor Nearest(SKColor pixel) =>
        new[] { Red, Green, Blue, Yellow }.MinBy(c => Math.Abs(c.Red - pixel.Red) + Math.Abs(c.Green - pixel.Green) + Math.Abs(c.Blue - pixel.Blue));

    private static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format)
    {
        using var data = bitmap.Encode(format, 95);
        return data.ToArray();
    }

    /// <summary>The picture with an EXIF orientation: an APP1 segment after a JPEG's start, an eXIf chunk after a PNG's header.</summary>
    private static byte[] WithOrientation(byte[] encoded, SKEncodedImageFormat format, int orientation)
    {
        // Big-endian TIFF: IFD0 with one entry, the orientation (SHORT).
        byte[] tiff = [0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (byte)orientation, 0, 0, 0, 0, 0, 0];
        if (format == SKEncodedImageFormat.Jpeg)
        {
            byte[] payload = [.. "Exif\0\0"u8, .. tiff];
            var length = payload.Length + 2;
            return [.. encoded[..2], 0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload, .. encoded[2..]];
        }

        // The signature (8 bytes) and IHDR (25) come first.
        var chunk = new byte[12 + tiff.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(chunk, tiff.Length);
        "eXIf"u8.CopyTo(chunk.AsSpan(4));
        tiff.CopyTo(chunk.AsSpan(8));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + tiff.Length), Crc32(chunk.AsSpan(4, 4 + tiff.Length)));
        return [.. encoded[..33], .. chunk, .. encoded[33..]];
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
