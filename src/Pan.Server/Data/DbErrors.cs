using Microsoft.EntityFrameworkCore;

namespace Pan.Server.Data;

/// <summary>Recognises a unique-index violation on either provider, and which index it hit.</summary>
public static class DbErrors
{
    /// <summary>True when <paramref name="ex"/> is a unique violation; <paramref name="what"/> names the index or column.</summary>
    public static bool IsUniqueViolation(DbUpdateException ex, out string what) => IsProviderUniqueViolation(ex.InnerException, out what);

    /// <summary>
    /// The same for a bulk statement (<c>ExecuteUpdate</c>/<c>ExecuteDelete</c>), which throws the provider's exception
    /// itself rather than a <see cref="DbUpdateException"/>.
    /// </summary>
    public static bool IsUniqueViolation(Exception ex, out string what) => ex is DbUpdateException update
        ? IsUniqueViolation(update, out what)
        : IsProviderUniqueViolation(ex, out what);

    private static bool IsProviderUniqueViolation(Exception? ex, out string what)
    {
        switch (ex)
        {
            case Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation } pg:
                what = pg.ConstraintName ?? string.Empty;
                return true;
            // SQLITE_CONSTRAINT_UNIQUE (2067) and SQLITE_CONSTRAINT_PRIMARYKEY (1555).
            case Microsoft.Data.Sqlite.SqliteException { SqliteExtendedErrorCode: 2067 or 1555 } sqlite:
                // SQLite names columns ("UNIQUE constraint failed: accounts.phone_e164"), not indexes.
                what = sqlite.Message;
                return true;
            default:
                what = string.Empty;
                return false;
        }
    }

    public static bool IsUniqueViolation(DbUpdateException ex) => IsUniqueViolation(ex, out _);

    /// <summary>
    /// True when <paramref name="ex"/> (or what it wraps) is PostgreSQL's serialization failure (40001): a transaction
    /// at REPEATABLE READ or SERIALIZABLE met a concurrent change it cannot be ordered with, and may be retried whole.
    /// </summary>
    public static bool IsSerializationFailure(Exception? ex) => ex switch
    {
        null => false,
        Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.SerializationFailure } => true,
        _ => IsSerializationFailure(ex.InnerException),
    };

    /// <summary>True when the violated index is about <paramref name="column"/> (PostgreSQL index name or SQLite column).</summary>
    public static bool Concerns(string what, string index, string column) =>
        what.Contains(index, StringComparison.Ordinal) || what.Contains(column, StringComparison.Ordinal);
}
