using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using Pan.Data;
using Pan.Data.Members;
using Pan.Server.Data;

namespace Pan.Server.Session;

/// <summary>
/// ReadObject's hot read: the public columns of the live members with some uids, in one statement over plain ADO.NET.
/// </summary>
/// <remarks>
/// Why not EF Core here: this is the busiest public read, and after its SQL was made constant (one array parameter)
/// most of its cost was EF's per-call machinery around a 20-row read — opening and closing a pooled connection through
/// the interceptors, building a command, and on SQLite parsing and planning the statement again on every call
/// (Microsoft.Data.Sqlite keeps prepared statements only for the life of a command). Measured in BENCHMARKS.md.
/// <list type="bullet">
/// <item>SQLite: a few connections kept open by this reader, each with the statement prepared once and reused, and
/// stepped through <see cref="SqliteRowReader"/> (one or two native calls per column instead of the data reader's
/// three; BENCHMARKS.md change 31); each execution is its own read transaction, so it sees every commit made before it
/// (WAL readers do not block writers). They are <see cref="SqliteReadConnection"/>s: <c>query_only</c>, and without
/// SQLite's per-connection mutex, since a lease is used by one caller at a time (BENCHMARKS.md change 39).</item>
/// <item>PostgreSQL: the context's own pooled connection and a plain command; Npgsql's automatic preparation (see
/// <see cref="PostgresConnectionDefaults"/>) keeps the plan on the server.</item>
/// </list>
/// Table and column names come from the EF Core model, so a renamed column cannot drift from this SQL; the date
/// columns must use <see cref="DateTimeOffsetToUnixMillisecondsConverter"/> (checked when the SQL is built).
/// </remarks>
public sealed class PublicMemberReader(IOptions<DatabaseOptions> databaseOptions, IConfiguration configuration, IServiceScopeFactory scopes)
    : IDisposable
{
    // The columns read, in ordinal order (what ObjectMapper.ToObject shows with self: false, plus the account id).
    private const int Uid = 0, ObjectId = 1, Username = 2, AvatarKey = 3, ActivateDate = 4, MigrationStatus = 5, DisplayName = 6,
        Gender = 7, VipExpireDate = 8, HashUid = 9, IsOwner = 10, AccountId = 11, Created = 12, Modified = 13;

    private static readonly string[] Properties =
    [
        nameof(Member.Uid), nameof(Member.ObjectId), nameof(Member.Username), nameof(Member.AvatarKey), nameof(Member.ActivateDate),
        nameof(Member.MigrationStatus), nameof(Member.DisplayName), nameof(Member.Gender), nameof(Member.VipExpireDate),
        nameof(Member.HashUid), nameof(Member.IsOwner), nameof(Member.AccountId), nameof(Member.Created), nameof(Member.Modified),
    ];

    private static readonly HashSet<string> NotNull =
    [
        nameof(Member.Uid), nameof(Member.MigrationStatus), nameof(Member.Gender), nameof(Member.IsOwner), nameof(Member.AccountId),
        nameof(Member.Created), nameof(Member.Modified),
    ];

    private static readonly ConditionalWeakTable<IModel, string> SqlByModel = new();

    private readonly bool postgres = databaseOptions.Value.IsPostgres;
    private readonly string sqliteConnectionString = DatabaseServiceCollectionExtensions.ConnectionString(configuration, databaseOptions.Value.Provider);
    private readonly ConcurrentQueue<SqliteLease> idle = new();
    private readonly int maxIdle = Math.Max(2, Environment.ProcessorCount * 2);
    private volatile bool disposed;
    private string? sqliteSql;

    /// <summary>
    /// True when <see cref="ReadAsync"/> needs the request's context (PostgreSQL reads on its connection); on SQLite it
    /// may be given null.
    /// </summary>
    public bool NeedsContext => postgres;

    /// <summary>
    /// The public columns of the live members with these distinct uids (any order; missing and deleted ones left out).
    /// The rows are partial Member objects: never save or self-map them. <paramref name="db"/> is the request's
    /// context, needed only where <see cref="NeedsContext"/>.
    /// </summary>
    public async Task<List<Member>> ReadAsync(PanDbContext? db, long[] uids, CancellationToken cancellationToken)
    {
        var members = new List<Member>(uids.Length);
        if (uids.Length == 0)
        {
            return members;
        }

        if (postgres)
        {
            ArgumentNullException.ThrowIfNull(db);
            await ReadPostgresAsync(db, SqlByModel.GetValue(db.Model, model => BuildSql(model, postgres: true)), uids, members, cancellationToken);
        }
        else
        {
            ReadSqlite(sqliteSql ??= SqliteSql(), uids, members);
        }

        return members;
    }

    /// <summary>The SQLite statement for this server's model, from a context of its own (once; the model never changes).</summary>
    private string SqliteSql()
    {
        using var scope = scopes.CreateScope();
        var model = scope.ServiceProvider.GetRequiredService<PanDbContext>().Model;
        return SqlByModel.GetValue(model, m => BuildSql(m, postgres: false));
    }

    private void ReadSqlite(string sql, long[] uids, List<Member> members)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        SqliteLease? lease = null;
        if (idle.TryDequeue(out var found))
        {
            if (found.Sql == sql)
            {
                lease = found;
            }
            else
            {
                found.Dispose();
            }
        }

        lease ??= new SqliteLease(sqliteConnectionString, sql);
        var keep = false;
        try
        {
            lease.Rows.BindText(1, lease.JsonArray(uids));
            try
            {
                ReadAll(lease.Rows, members);
            }
            finally
            {
                lease.Rows.Reset();
            }

            keep = true;
        }
        finally
        {
            if (keep && !disposed && idle.Count < maxIdle)
            {
                idle.Enqueue(lease);
            }
            else
            {
                lease.Dispose();
            }
        }
    }

    private static async Task ReadPostgresAsync(PanDbContext db, string sql, long[] uids, List<Member> members, CancellationToken cancellationToken)
    {
        var connection = db.Database.GetDbConnection();
        var opened = connection.State != ConnectionState.Open;
        if (opened)
        {
            await connection.OpenAsync(cancellationToken);
        }

        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            var parameter = command.CreateParameter();
            parameter.Value = uids;
            command.Parameters.Add(parameter);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            ReadAll(reader, members);
        }
        finally
        {
            if (opened)
            {
                await connection.CloseAsync();
            }
        }
    }

    private static void ReadAll(DbDataReader reader, List<Member> members)
    {
        while (reader.Read())
        {
            members.Add(new Member
            {
                Uid = reader.GetInt64(Uid),
                ObjectId = reader.GetGuid(ObjectId),
                Username = NullableString(reader, Username),
                AvatarKey = NullableString(reader, AvatarKey),
                ActivateDate = NullableTime(reader, ActivateDate),
                MigrationStatus = reader.GetInt32(MigrationStatus),
                DisplayName = NullableString(reader, DisplayName),
                Gender = reader.GetInt32(Gender),
                VipExpireDate = NullableTime(reader, VipExpireDate),
                HashUid = NullableString(reader, HashUid),
                IsOwner = reader.GetBoolean(IsOwner),
                AccountId = reader.GetInt64(AccountId),
                Created = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(Created)),
                Modified = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(Modified)),
            });
        }
    }

    private static void ReadAll(SqliteRowReader rows, List<Member> members)
    {
        while (rows.Step())
        {
            members.Add(new Member
            {
                Uid = rows.GetInt64(Uid),
                ObjectId = rows.GetGuid(ObjectId),
                Username = rows.GetString(Username),
                AvatarKey = rows.GetString(AvatarKey),
                ActivateDate = Time(rows.GetNullableInt64(ActivateDate)),
                MigrationStatus = (int)rows.GetInt64(MigrationStatus),
                DisplayName = rows.GetString(DisplayName),
                Gender = (int)rows.GetInt64(Gender),
                VipExpireDate = Time(rows.GetNullableInt64(VipExpireDate)),
                HashUid = rows.GetString(HashUid),
                IsOwner = rows.GetInt64(IsOwner) != 0,
                AccountId = rows.GetInt64(AccountId),
                Created = DateTimeOffset.FromUnixTimeMilliseconds(rows.GetInt64(Created)),
                Modified = DateTimeOffset.FromUnixTimeMilliseconds(rows.GetInt64(Modified)),
            });
        }
    }

    private static DateTimeOffset? Time(long? unixMilliseconds) =>
        unixMilliseconds is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    private static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static DateTimeOffset? NullableTime(DbDataReader reader, int ordinal) =>
        Time(reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal));

    /// <summary>The statement for this model: the columns in <see cref="Properties"/> order, live members only.</summary>
    internal static string BuildSql(IModel model, bool postgres)
    {
        var entity = model.FindEntityType(typeof(Member)) ?? throw new InvalidOperationException("Member is not in the model.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        string Column(string name)
        {
            var property = entity.FindProperty(name) ?? throw new InvalidOperationException($"Member.{name} is not mapped.");
            if (property.ClrType == typeof(DateTimeOffset) || property.ClrType == typeof(DateTimeOffset?))
            {
                var converter = property.GetTypeMapping().Converter;
                if (converter is not DateTimeOffsetToUnixMillisecondsConverter)
                {
                    throw new InvalidOperationException($"Member.{name} is expected to be stored as Unix milliseconds; PublicMemberReader reads it so.");
                }
            }

            // Why: on SQLite these are read without a NULL check (SqliteRowReader reads a NULL integer as 0).
            if (property.IsNullable && NotNull.Contains(name))
            {
                throw new InvalidOperationException($"Member.{name} is expected to be NOT NULL; PublicMemberReader reads it so.");
            }

            return Quote(property.GetColumnName(table) ?? throw new InvalidOperationException($"Member.{name} has no column."));
        }

        var from = entity.GetSchema() is { } schema ? $"{Quote(schema)}.{Quote(table.Name)}" : Quote(table.Name);
        if (postgres)
        {
            return $"SELECT {string.Join(", ", Properties.Select(Column))} FROM {from} " +
                $"WHERE {Column(nameof(Member.Deleted))} IS NULL AND {Column(nameof(Member.Uid))} = ANY($1)";
        }

        // Why a join rather than `uid IN (SELECT value FROM json_each(…))`: SQLite builds a temporary index of an IN
        // list before the lookups; the join looks each uid up by rowid as json_each yields it (uids are distinct).
        return $"SELECT {string.Join(", ", Properties.Select(p => "m." + Column(p)))} FROM json_each(@uids) AS w " +
            $"CROSS JOIN {from} AS m ON m.{Column(nameof(Member.Uid))} = w.value WHERE m.{Column(nameof(Member.Deleted))} IS NULL";
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public void Dispose()
    {
        disposed = true;
        while (idle.TryDequeue(out var lease))
        {
            lease.Dispose();
        }
    }

    /// <summary>One open SQLite connection with the statement prepared on it.</summary>
    private sealed class SqliteLease : IDisposable
    {
        private byte[] json = new byte[512];
        private readonly SqliteReadConnection connection;

        public SqliteLease(string connectionString, string sql)
        {
            Sql = sql;
            connection = new SqliteReadConnection(connectionString);
            try
            {
                Rows = new SqliteRowReader(connection.Handle, sql);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        public string Sql { get; }

        public SqliteRowReader Rows { get; } = null!;

        /// <summary>The uids as a JSON array (json_each's input), written into this lease's buffer.</summary>
        public ReadOnlySpan<byte> JsonArray(long[] uids)
        {
            // 20 digits and a sign per uid at most, plus commas and brackets.
            var needed = uids.Length * 21 + 2;
            if (json.Length < needed)
            {
                json = new byte[Math.Max(needed, json.Length * 2)];
            }

            var length = 0;
            json[length++] = (byte)'[';
            for (var i = 0; i < uids.Length; i++)
            {
                if (i > 0)
                {
                    json[length++] = (byte)',';
                }

                Utf8Formatter.TryFormat(uids[i], json.AsSpan(length), out var written);
                length += written;
            }

            json[length++] = (byte)']';
            return json.AsSpan(0, length);
        }

        public void Dispose()
        {
            Rows?.Dispose();
            connection.Dispose();
        }
    }
}
