using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class AvatarLegacyFiles : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Why: avatar files stored before the janitor existed were never pending, so those no member references (an
            // upload whose node was killed before its switch, a replaced avatar whose delete failed) stayed for good.
            // Marked pending since they were stored, the janitor deletes them once older than the grace (an upload under
            // way during the upgrade is younger, and claims its files or is claimed by the janitor), unless a member
            // references them by then. Files a member references stay as they are.
            migrationBuilder.Sql("""
                UPDATE avatar_files SET pending_since = created
                WHERE pending_since IS NULL
                  AND NOT EXISTS (SELECT 1 FROM members WHERE members.avatar_key = avatar_files.key);
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Nothing to undo: the schema is unchanged, and pending files are what the janitor expects.
        }
    }
}
