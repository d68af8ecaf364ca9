using Microsoft.Data.Sqlite;

namespace Pan.Bench.Seeding;

/// <summary>
/// Seeds accounts and members into a migrated SQLite file with one prepared INSERT per table, in transactions of
/// <see cref="Batch"/> rows, bypassing the API.
/// </summary>
public static class SqliteSeeder
{
    private const int Batch = 50_000;

    public static async Task SeedAsync(string connectionString, int count)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        // Why: a bulk load; durability of a half-seeded file does not matter, and a big cache keeps index inserts in memory.
        await ExecuteAsync(connection, "PRAGMA synchronous=OFF; PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY;");

        var rows = new SeedRows();
        for (var first = 1; first <= count; first += Batch)
        {
            var last = Math.Min(count, first + Batch - 1);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
            var (account, accountValues) = Prepare(connection, transaction,
                "INSERT INTO accounts (id, phone_e164, phone_country_code, default_member_uid, created, modified, deleted, version) " +
                "VALUES ($1, $2, 886, $3, $4, $4, NULL, 0)", 4);
            var (member, memberValues) = Prepare(connection, transaction,
                "INSERT INTO members (uid, object_id, hash_uid, account_id, display_name, display_name_key, username, email, email_key, " +
                "email_verified, gender, avatar_key, vip_expire_date, activate_ip, activate_date, is_owner, migration_status, locale, " +
                "created, modified, deleted, token_generation, version) " +
                $"VALUES ($1, $2, $3, $1, $4, $5, NULL, NULL, NULL, 0, 0, NULL, NULL, '{SeedRows.ActivateIp}', $6, 1, " +
                $"{SeedRows.MigrationStatusNewPan}, '{SeedRows.Locale}', $6, $6, NULL, 0, 0)", 6);
            for (long i = first; i <= last; i++)
            {
                var m = rows.Member(i);
                Set(accountValues, m.Uid, m.PhoneE164, m.Uid, m.CreatedMs);
                await account.ExecuteNonQueryAsync();
                // Why: EF Core stores a Guid on SQLite as upper-case TEXT and compares it as such.
                Set(memberValues, m.Uid, m.ObjectId.ToString().ToUpperInvariant(), m.HashUid, m.DisplayName, m.DisplayNameKey, m.CreatedMs);
                await member.ExecuteNonQueryAsync();
            }

            await transaction.CommitAsync();
            await account.DisposeAsync();
            await member.DisposeAsync();
        }
    }

    private static (SqliteCommand Command, SqliteParameter[] Values) Prepare(SqliteConnection connection, SqliteTransaction transaction, string sql, int count)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        var values = Enumerable.Range(1, count).Select(i => command.Parameters.Add(new SqliteParameter($"${i}", null))).ToArray();
        command.Prepare();
        return (command, values);
    }

    private static void Set(SqliteParameter[] parameters, params object[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            parameters[i].Value = values[i];
        }
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
