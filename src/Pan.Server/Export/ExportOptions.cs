using System.ComponentModel.DataAnnotations;

namespace Pan.Server.Export;

/// <summary><c>Pan:Export:*</c>: the member's download of its own data (ExportMyData).</summary>
public sealed class ExportOptions
{
    public const string Section = "Pan:Export";

    /// <summary>
    /// Least time between two exports of one member, in minutes (default 10). Why a limit besides the step-up: a
    /// password holder mints "export-data" verify tokens as fast as VerifyMemberByPassword answers, and each export
    /// reads every table that holds the member; one document per few minutes is all a member needs.
    /// </summary>
    [Range(1, 1440, ErrorMessage = "Pan:Export:MinutesBetweenExports must be 1–1440.")]
    public int MinutesBetweenExports { get; set; } = 10;
}
