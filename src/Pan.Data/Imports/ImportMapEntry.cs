namespace Pan.Data.Imports;

/// <summary>Which Pan member a legacy member became: the key that makes <c>members import</c> safe to re-run.</summary>
public sealed class ImportMapEntry
{
    /// <summary>The legacy store: "jkf" (STATUS_OLD_JKF) or "1128" (STATUS_OLD_1128).</summary>
    public string Source { get; set; } = string.Empty;

    /// <summary>The member's id in the legacy store, as text.</summary>
    public string LegacyId { get; set; } = string.Empty;

    public long Uid { get; set; }

    public DateTimeOffset Imported { get; set; }
}
