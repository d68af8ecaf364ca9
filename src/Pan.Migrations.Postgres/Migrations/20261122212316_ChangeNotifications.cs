using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
{
    /// <summary>
    /// Every committed update or delete of a member, account or auth session (and every new member) is announced on the <c>pan_changes</c>
    /// channel (every node's change listener hears it) and as a NOTICE to the writing connection (the writing node hears
    /// it before its call returns). Nodes use it to drop cached copies of those rows (Pan.Server.Data.Changes). Payload:
    /// <c>m:&lt;uid&gt;</c>, <c>a:&lt;account id&gt;</c> or <c>s:&lt;session id&gt;</c>.
    /// </summary>
    public partial class ChangeNotifications : Migration
    {
        // Why inserts of members: a new member changes the live-member count of its phone (Me's can_new_child).
        private static readonly (string Table, string Tag, string Key, string Events)[] Watched =
        [
            ("members", "m", "uid", "INSERT OR UPDATE OR DELETE"),
            ("accounts", "a", "id", "UPDATE OR DELETE"),
            ("auth_sessions", "s", "id", "UPDATE OR DELETE"),
        ];

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE FUNCTION pan_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE
                    row_key text := TG_ARGV[0] || ':' || (CASE TG_OP WHEN 'INSERT' THEN to_jsonb(NEW) ELSE to_jsonb(OLD) END ->> TG_ARGV[1]);
                BEGIN
                    PERFORM pg_notify('pan_changes', row_key);
                    RAISE NOTICE 'pan_changes %', row_key;
                    RETURN NULL;
                END
                $$;
                """);
            foreach (var (table, tag, key, events) in Watched)
            {
                migrationBuilder.Sql($"""
                    CREATE TRIGGER pan_changes AFTER {events} ON "{table}"
                        FOR EACH ROW EXECUTE FUNCTION pan_notify_change('{tag}', '{key}');
                    """);
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var (table, _, _, _) in Watched)
            {
                migrationBuilder.Sql($"""DROP TRIGGER pan_changes ON "{table}";""");
            }

            migrationBuilder.Sql("DROP FUNCTION pan_notify_change();");
        }
    }
}
