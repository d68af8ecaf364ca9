using Npgsql;
using NpgsqlTypes;

namespace Pan.Bench.Seeding;

/// <summary>
/// Seeds accounts and members into a migrated PostgreSQL database with binary COPY, bypassing the API; then moves the
/// identity sequences past the seeded ids and analyzes the tables (as autovacuum would soon after a bulk load).
/// </summary>
public static class PostgresSeeder
{
    public static async Task SeedAsync(string connectionString, int count)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var rows = new SeedRows();
        await using (var accounts = await connection.BeginBinaryImportAsync(
            "COPY accounts (id, phone_e164, phone_country_code, default_member_uid, created, modified, version) FROM STDIN (FORMAT BINARY)"))
        {
            for (long i = 1; i <= count; i++)
            {
                await accounts.StartRowAsync();
                await accounts.WriteAsync(i, NpgsqlDbType.Bigint);
                await accounts.WriteAsync(SeedRows.E164Phone(i), NpgsqlDbType.Varchar);
                await accounts.WriteAsync(886, NpgsqlDbType.Integer);
                await accounts.WriteAsync(i, NpgsqlDbType.Bigint);
                await accounts.WriteAsync(rows.CreatedMs(i), NpgsqlDbType.Bigint);
                await accounts.WriteAsync(rows.CreatedMs(i), NpgsqlDbType.Bigint);
                await accounts.WriteAsync(0L, NpgsqlDbType.Bigint);
            }

            await accounts.CompleteAsync();
        }

        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY members (uid, object_id, hash_uid, account_id, display_name, display_name_key, email_verified, gender, activate_ip, " +
            "activate_date, is_owner, migration_status, locale, created, modified, token_generation, version) FROM STDIN (FORMAT BINARY)"))
        {
            for (long i = 1; i <= count; i++)
            {
                var m = rows.Member(i);
                await copy.StartRowAsync();
                await copy.WriteAsync(m.Uid, NpgsqlDbType.Bigint);
                await copy.WriteAsync(m.ObjectId, NpgsqlDbType.Uuid);
                await copy.WriteAsync(m.HashUid, NpgsqlDbType.Varchar);
                await copy.WriteAsync(m.Uid, NpgsqlDbType.Bigint);
                await copy.WriteAsync(m.DisplayName, NpgsqlDbType.Varchar);
                await copy.WriteAsync(m.DisplayNameKey, NpgsqlDbType.Varchar);
                await copy.WriteAsync(false, NpgsqlDbType.Boolean);
                await copy.WriteAsync(0, NpgsqlDbType.Integer);
                await copy.WriteAsync(SeedRows.ActivateIp, NpgsqlDbType.Varchar);
                await copy.WriteAsync(m.CreatedMs, NpgsqlDbType.Bigint);
                await copy.WriteAsync(true, NpgsqlDbType.Boolean);
                await copy.WriteAsync(SeedRows.MigrationStatusNewPan, NpgsqlDbType.Integer);
                await copy.WriteAsync(SeedRows.Locale, NpgsqlDbType.Varchar);
                await copy.WriteAsync(m.CreatedMs, NpgsqlDbType.Bigint);
                await copy.WriteAsync(m.CreatedMs, NpgsqlDbType.Bigint);
                await copy.WriteAsync(0L, NpgsqlDbType.Bigint);
                await copy.WriteAsync(0L, NpgsqlDbType.Bigint);
            }

            await copy.CompleteAsync();
        }

        await using var finish = new NpgsqlCommand(
            "SELECT setval(pg_get_serial_sequence('accounts', 'id'), (SELECT max(id) FROM accounts));" +
            "SELECT setval(pg_get_serial_sequence('members', 'uid'), (SELECT max(uid) FROM members));" +
            "ANALYZE accounts; ANALYZE members;", connection);
        await finish.ExecuteNonQueryAsync();
    }
}
