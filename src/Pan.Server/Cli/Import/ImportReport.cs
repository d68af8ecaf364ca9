namespace Pan.Server.Cli.Import;

/// <summary>A row-level message: the file's line number and what happened.</summary>
public sealed record ImportIssue(int Line, string Message);

/// <summary>The outcome of one <c>members import</c> run.</summary>
public sealed class ImportReport
{
    /// <summary>Data rows read (blank lines and the CSV header not counted).</summary>
    public int Read { get; set; }

    public int Imported { get; set; }

    /// <summary>Rows whose (source, legacy_id) was imported by an earlier run: skipped, nothing changed.</summary>
    public int AlreadyImported { get; set; }

    /// <summary>Rows not imported, with why (the run went on).</summary>
    public List<ImportIssue> BadRows { get; } = [];

    /// <summary>Rows imported with a change (a display name suffixed because the name was taken).</summary>
    public List<ImportIssue> Renamed { get; } = [];
}
