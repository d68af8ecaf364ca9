using SkiaSharp;

namespace Pan.Server.Avatars;

/// <summary>The image formats an avatar upload may be in, told apart by their first bytes (never by a file name).</summary>
public enum ImageFormat
{
    Unknown,
    Jpeg,
    Png,
    WebP,
    Gif,
}

/// <summary>
/// Turns an uploaded picture into Pan's avatar PNGs with SkiaSharp: sniff the format from the magic bytes, refuse
/// anything the decoder disagrees with, whose pixel count is over <see cref="MaxPixels"/> or that would decode to more
/// than <see cref="MaxDecodedPixels"/> (both read from the header before decoding, so a small file cannot expand into
/// gigabytes), decode (JPEG and WebP straight at a reduced scale; PNG and GIF only at full size), then centre-crop to
/// a square and resample to each size, turned per the EXIF orientation on the way (no upright copy of the decoded
/// picture is made, so a turned picture takes the memory of an upright one). Re-encoding drops all metadata (EXIF, GPS, ICC
/// comments) and anything smuggled after the image data. An animated GIF keeps its first frame.
/// </summary>
/// <remarks>
/// Why the decoded cap: a PNG or GIF of one colour is a few kilobytes at 25 megapixels, which decode to 100 MB.
/// </remarks>
public static class AvatarImages
{
    /// <summary>Largest accepted width × height of an upload (25 megapixels: ~100 MB decoded at most).</summary>
    public const long MaxPixels = 25_000_000;

    /// <summary>Largest width × height a picture is decoded at (4096²: 64 MiB of pixels).</summary>
    public const long MaxDecodedPixels = 4096 * 4096;

    public static ImageFormat Sniff(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return ImageFormat.Jpeg;
        }

        if (data.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return ImageFormat.Png;
        }

        if (data.Length >= 12 && data.StartsWith("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8))
        {
            return ImageFormat.WebP;
        }

        return data.StartsWith("GIF87a"u8) || data.StartsWith("GIF89a"u8) ? ImageFormat.Gif : ImageFormat.Unknown;
    }

    /// <summary>
    /// Most scans (SOS markers) a JPEG upload may have. A decoder goes through every block of the picture in every scan
    /// of a progressive JPEG, and a scan of a flat picture is a few bytes: 99 scans of 25 megapixels of grey take
    /// ~0.6 s of CPU while holding a decode slot. SkiaSharp's decoder refuses 100 or more itself, but only once it has
    /// gone through the first 99; counted here first, such a file is refused before it is decoded. Encoders write 10
    /// or so (a progressive JPEG) or 1 to 3 (a baseline one).
    /// </summary>
    public const int MaxJpegScans = 99;

    /// <summary>
    /// How many scans a JPEG holds, read from its markers without decoding: each segment is skipped by its length and
    /// each scan's entropy-coded data up to the next marker; stops at the end of the image (EOI) or at anything malformed
    /// (the decoder refuses that). Linear in the size of the file.
    /// </summary>
    public static int JpegScans(ReadOnlySpan<byte> data)
    {
        var scans = 0;
        var at = 2;
        while (at + 1 < data.Length)
        {
            if (data[at] != 0xFF)
            {
                return scans;
            }

            var marker = data[at + 1];
            if (marker == 0xFF)
            {
                // A fill byte before a marker.
                at++;
                continue;
            }

            at += 2;
            if (marker == 0xD9)
            {
                return scans;
            }

            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                continue;
            }

            if (at + 1 >= data.Length)
            {
                return scans;
            }

            var length = (data[at] << 8) | data[at + 1];
            if (length < 2)
            {
                return scans;
            }

            at += length;
            if (marker != 0xDA)
            {
                continue;
            }

            scans++;
            // The entropy-coded data: a 0xFF in it is followed by 0x00 (a stuffed byte) or a restart marker.
            while (at + 1 < data.Length && !(data[at] == 0xFF && data[at + 1] != 0x00 && data[at + 1] is < 0xD0 or > 0xD7))
            {
                at++;
            }
        }

        return scans;
    }


    /// <summary>One square PNG per size, or null when the data is not a decodable image of its sniffed format within the limits.</summary>
    public static Dictionary<int, byte[]>? Render(ReadOnlySpan<byte> data, IReadOnlyList<int> sizes) => Render(data, sizes, new PixelLedger());

    /// <summary>As <see cref="Render(ReadOnlySpan{byte}, IReadOnlyList{int})"/>, counting the pixel buffers it allocates in <paramref name="ledger"/>.</summary>
    internal static Dictionary<int, byte[]>? Render(ReadOnlySpan<byte> data, IReadOnlyList<int> sizes, PixelLedger ledger)
    {
        var format = Sniff(data);
        if (format == ImageFormat.Unknown)
        {
            return null;
        }

        using var encoded = SKData.CreateCopy(data);
        using var codec = SKCodec.Create(encoded);
        if (codec is null || !Matches(codec.EncodedFormat, format))
        {
            return null;
        }

        var (width, height) = (codec.Info.Width, codec.Info.Height);
        if (width <= 0 || height <= 0 || (long)width * height > MaxPixels)
        {
            return null;
        }

        var decoded = Decode(codec, sizes.Max(), ledger);
        if (decoded is null)
        {
            return null;
        }

        try
        {
            // Why no upright copy: each output square is drawn straight from the decoded pixels through the orientation,
            // so a turned picture takes no more memory than an upright one (the decode bound, Pan:Avatars:MaxConcurrentDecodes).
            var (upright, shown) = Orientation(codec.EncodedOrigin, decoded.Width, decoded.Height);
            using var image = SKImage.FromBitmap(decoded);
            var side = Math.Min(shown.Width, shown.Height);
            var crop = SKRect.Create((shown.Width - side) / 2f, (shown.Height - side) / 2f, side, side);
            return sizes.ToDictionary(size => size, size => Square(image, upright, crop, size, ledger));
        }
        finally
        {
            ledger.Free(decoded);
        }
    }

    private static bool Matches(SKEncodedImageFormat decoder, ImageFormat sniffed) => (decoder, sniffed) switch
    {
        (SKEncodedImageFormat.Jpeg, ImageFormat.Jpeg) => true,
        (SKEncodedImageFormat.Png, ImageFormat.Png) => true,
        (SKEncodedImageFormat.Webp, ImageFormat.WebP) => true,
        (SKEncodedImageFormat.Gif, ImageFormat.Gif) => true,
        _ => false,
    };

    /// <summary>
    /// Decodes the whole picture, at the smallest scale the codec offers that keeps the short side at least
    /// <paramref name="largest"/>; null when that is over <see cref="MaxDecodedPixels"/> (nothing is decoded then).
    /// The bitmap is immutable, so an <see cref="SKImage"/> of it shares its pixels instead of copying them.
    /// </summary>
    private static SKBitmap? Decode(SKCodec codec, int largest, PixelLedger ledger)
    {
        var shortSide = Math.Min(codec.Info.Width, codec.Info.Height);
        var scale = Math.Min(1f, (float)largest / shortSide);
        var dimensions = codec.GetScaledDimensions(scale);
        if (Math.Min(dimensions.Width, dimensions.Height) < Math.Min(largest, shortSide))
        {
            dimensions = codec.Info.Size;
        }

        if ((long)dimensions.Width * dimensions.Height > MaxDecodedPixels)
        {
            return null;
        }

        var info = new SKImageInfo(dimensions.Width, dimensions.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        var bitmap = ledger.Allocate(info);
        if (codec.GetPixels(info, bitmap.GetPixels()) == SKCodecResult.Success)
        {
            bitmap.SetImmutable();
            return bitmap;
        }

        ledger.Free(bitmap);
        return null;
    }

    /// <summary>
    /// The matrix that turns a <paramref name="width"/> × <paramref name="height"/> picture stored with the EXIF
    /// <paramref name="origin"/> upright, and its size once upright.
    /// </summary>
    private static (SKMatrix Upright, SKSizeI Shown) Orientation(SKEncodedOrigin origin, int width, int height)
    {
        float w = width, h = height;
        // Each matrix maps a stored pixel (x, y) to where it is shown: x' = ScaleX·x + SkewX·y + TransX, y' = SkewY·x + ScaleY·y + TransY.
        var matrix = origin switch
        {
            SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),
            SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightTop => new SKMatrix(0, -1, h, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, h, -1, 0, w, 0, 0, 1),
            SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, w, 0, 0, 1),
            _ => SKMatrix.Identity,
        };
        var swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        return (matrix, swap ? new SKSizeI(height, width) : new SKSizeI(width, height));
    }

    /// <summary>The <paramref name="crop"/> (in upright coordinates) of the stored <paramref name="image"/>, turned upright and resampled to a square PNG.</summary>
    private static byte[] Square(SKImage image, SKMatrix upright, SKRect crop, int size, PixelLedger ledger)
    {
        var bitmap = ledger.Allocate(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        try
        {
            using (var canvas = new SKCanvas(bitmap))
            {
                canvas.Clear(SKColors.Transparent);
                var scale = size / crop.Width;
                canvas.SetMatrix(upright
                    .PostConcat(SKMatrix.CreateTranslation(-crop.Left, -crop.Top))
                    .PostConcat(SKMatrix.CreateScale(scale, scale)));
                // Why: linear filtering over mipmaps keeps strong reductions (a 4000 px photo to 100 px) free of aliasing;
                // the orientation only flips and turns by right angles, which the filtering is indifferent to.
                canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
            }

            using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            return png.ToArray();
        }
        finally
        {
            ledger.Free(bitmap);
        }
    }
}

/// <summary>
/// The pixel buffers one render allocates: how many bytes it holds now and the most it held at once (what the decode
/// bound in <see cref="AvatarOptions.MaxConcurrentDecodes"/> counts, besides Skia's mipmaps for resampling).
/// </summary>
internal sealed class PixelLedger
{
    private long held;

    public long Peak { get; private set; }

    public SKBitmap Allocate(SKImageInfo info)
    {
        var bitmap = new SKBitmap(info);
        held += info.BytesSize64;
        Peak = Math.Max(Peak, held);
        return bitmap;
    }

    public void Free(SKBitmap? bitmap)
    {
        if (bitmap is not null)
        {
            held -= bitmap.Info.BytesSize64;
            bitmap.Dispose();
        }
    }
}
