using System.Text;

namespace Pan.Server.Members;

/// <summary>
/// Unicode normalisation of text from callers. <see cref="string.Normalize(NormalizationForm)"/> throws
/// <see cref="ArgumentException"/> for U+FFFE and for an unpaired surrogate; U+FFFE is valid UTF-8, so gRPC, JSON and
/// forms all deliver it, and a throw there would turn bad input into INTERNAL (SECURITY 17).
/// </summary>
public static class UnicodeText
{
    /// <summary>False when <paramref name="text"/> holds U+FFFE or an unpaired surrogate, the text .NET cannot normalise.</summary>
    public static bool IsNormalizable(string text)
    {
        var span = text.AsSpan();
        // Why the order: both searches are vectorised, and most text has no surrogate at all.
        return !span.Contains('\uFFFE') && (span.IndexOfAnyInRange('\uD800', '\uDFFF') < 0 || HasOnlyPairedSurrogates(span));
    }

    /// <summary>
    /// <paramref name="text"/> in <paramref name="form"/>, with U+FFFE and unpaired surrogates first replaced by U+FFFD
    /// (as <see cref="string.EnumerateRunes"/> reads them). Rules then refuse U+FFFD as they refuse any symbol, and a
    /// lookup by such text finds nothing, since no stored value holds it.
    /// </summary>
    public static string Normalize(string text, NormalizationForm form)
    {
        if (IsNormalizable(text))
        {
            return text.Normalize(form);
        }

        var builder = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            builder.Append(rune.Value == 0xFFFE ? Rune.ReplacementChar : rune);
        }

        return builder.ToString().Normalize(form);
    }

    private static bool HasOnlyPairedSurrogates(ReadOnlySpan<char> span)
    {
        for (var i = 0; i < span.Length; i++)
        {
            if (char.IsHighSurrogate(span[i]) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(span[i]))
            {
                return false;
            }
        }

        return true;
    }
}
