namespace Pan.Server.Data.Changes;

/// <summary>The tables whose committed updates and deletes Pan's in-memory caches must hear about.</summary>
public enum ChangedTable : byte
{
    /// <summary><c>members</c>, by uid.</summary>
    Member,

    /// <summary><c>accounts</c>, by id.</summary>
    Account,

    /// <summary><c>auth_sessions</c>, by id.</summary>
    Session,
}

/// <summary>One row of a watched table was updated or deleted (and the change is committed, or was rolled back).</summary>
public readonly record struct RowChange(ChangedTable Table, long Id)
{
    /// <summary>The wire form shared by the PostgreSQL trigger and the listener: <c>m:12</c>, <c>a:3</c>, <c>s:40</c>.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out RowChange change)
    {
        change = default;
        if (text.Length < 3 || text[1] != ':' || !long.TryParse(text[2..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
        {
            return false;
        }

        ChangedTable? table = text[0] switch
        {
            'm' => ChangedTable.Member,
            'a' => ChangedTable.Account,
            's' => ChangedTable.Session,
            _ => null,
        };
        if (table is null)
        {
            return false;
        }

        change = new RowChange(table.Value, id);
        return true;
    }

    /// <summary>The table a SQLite update hook names, or null when Pan does not watch it.</summary>
    public static ChangedTable? FromTableName(string table) => table switch
    {
        "members" => ChangedTable.Member,
        "accounts" => ChangedTable.Account,
        "auth_sessions" => ChangedTable.Session,
        _ => null,
    };
}
