using System.Globalization;
using System.Text;
using Pan.Server.Errors;
using Pan.Server.Members;

namespace Pan.Server.Credentials;

/// <summary>Rules for security questions and the normal form their answers are hashed in.</summary>
public static class SecurityQuestions
{
    /// <summary>Longest question, in UTF-16 units (the column width is 256).</summary>
    public const int MaxQuestionLength = 200;

    /// <summary>Longest answer, in code points (answers are hashed like passwords).</summary>
    public const int MaxAnswerLength = 128;

    /// <summary>Longest answer a check reads, in UTF-16 units; a longer one is wrong without being normalised or hashed.</summary>
    public const int MaxAnswerInputLength = 1024;

    /// <summary>
    /// The form an answer is hashed and compared in: trimmed, inner whitespace runs collapsed to one space, NFKC
    /// (full-width → half-width) and lower-cased with the invariant culture, so "  Taipei ", "TAIPEI" and "ｔａｉｐｅｉ" match.
    /// </summary>
    public static string NormalizeAnswer(string answer)
    {
        var nfkc = UnicodeText.Normalize(answer, NormalizationForm.FormKC);
        var builder = new StringBuilder(nfkc.Length);
        var space = false;
        foreach (var c in nfkc.Trim())
        {
            if (char.IsWhiteSpace(c))
            {
                space = true;
                continue;
            }

            if (space)
            {
                builder.Append(' ');
                space = false;
            }

            builder.Append(c);
        }

        return builder.ToString().ToLower(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// What is wrong with a security question to be set (null when it is fine). Field names are
    /// <paramref name="field"/>.question and <paramref name="field"/>.answer.
    /// </summary>
    public static FieldViolation? Problem(Pan.General.Member.SecurityQuestion question, string field)
    {
        if (string.IsNullOrWhiteSpace(question.Question))
        {
            return new FieldViolation($"{field}.question", "is required");
        }

        if (question.Question.Trim().Length > MaxQuestionLength)
        {
            return new FieldViolation($"{field}.question", $"must be at most {MaxQuestionLength} characters");
        }

        if (string.IsNullOrWhiteSpace(question.Answer))
        {
            return new FieldViolation($"{field}.answer", "is required");
        }

        if (!UnicodeText.IsNormalizable(question.Answer))
        {
            return new FieldViolation($"{field}.answer", "must not contain U+FFFE or an unpaired surrogate");
        }

        // Why: check the raw length first so a huge answer is refused before normalisation or hashing.
        if (question.Answer.Length > MaxAnswerLength * 2 || NormalizeAnswer(question.Answer).EnumerateRunes().Count() > MaxAnswerLength)
        {
            return new FieldViolation($"{field}.answer", $"must be at most {MaxAnswerLength} characters");
        }

        return null;
    }
}
