using SkiaSharp;

namespace Pan.Server.Passport;

/// <summary>
/// Code 128 barcodes, code set B only (printable ASCII 32–126: enough for Pan's base64url passport tokens), drawn as
/// PNG with SkiaSharp. A symbol is start B, one symbol per character (value = character − 32), the modulo-103 check
/// symbol and the stop pattern, framed by quiet zones of 10 modules (ISO/IEC 15417).
/// </summary>
public static class Code128
{
    public const int StartB = 104;
    public const int Stop = 106;
    public const int QuietZoneModules = 10;

    /// <summary>
    /// Bar and space widths (in modules, bar first) of symbol values 0–106, from ISO/IEC 15417 Table 1. Every pattern
    /// is 11 modules wide, except stop (106), which has a final 2-module bar and is 13 wide.
    /// </summary>
    public static readonly IReadOnlyList<string> Patterns =
    [
        "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213",
        "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132",
        "221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211",
        "212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
        "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331",
        "231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111",
        "314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214",
        "112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
        "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
        "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141",
        "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
    ];

    /// <summary>The symbol values of <paramref name="text"/>: start B, the characters, the check symbol, stop.</summary>
    public static int[] Symbols(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0 || text.Any(c => c is < ' ' or > '~'))
        {
            throw new ArgumentException("Code 128 set B encodes 1 or more printable ASCII characters.", nameof(text));
        }

        var symbols = new int[text.Length + 3];
        symbols[0] = StartB;
        var sum = StartB;
        for (var i = 0; i < text.Length; i++)
        {
            symbols[i + 1] = text[i] - ' ';
            sum += (i + 1) * symbols[i + 1];
        }

        symbols[^2] = sum % 103;
        symbols[^1] = Stop;
        return symbols;
    }

    /// <summary>The barcode as modules, left to right (true = bar), without quiet zones.</summary>
    public static bool[] Modules(string text)
    {
        var modules = new List<bool>();
        foreach (var symbol in Symbols(text))
        {
            var bar = true;
            foreach (var width in Patterns[symbol])
            {
                modules.AddRange(Enumerable.Repeat(bar, width - '0'));
                bar = !bar;
            }
        }

        return [.. modules];
    }

    /// <summary>A black-on-white PNG of the barcode, <paramref name="moduleWidth"/> pixels per module.</summary>
    public static byte[] Png(string text, int moduleWidth = 2, int height = 80)
    {
        var modules = Modules(text);
        var width = (modules.Length + 2 * QuietZoneModules) * moduleWidth;
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap))
        using (var ink = new SKPaint { Color = SKColors.Black, IsAntialias = false })
        {
            canvas.Clear(SKColors.White);
            for (var i = 0; i < modules.Length; i++)
            {
                if (modules[i])
                {
                    canvas.DrawRect(SKRect.Create((QuietZoneModules + i) * moduleWidth, 0, moduleWidth, height), ink);
                }
            }
        }

        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }
}
