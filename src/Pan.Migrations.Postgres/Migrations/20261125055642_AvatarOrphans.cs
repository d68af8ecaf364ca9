using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class AvatarOrphans : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Why: built first and concurrently (outside the migration's transaction), so writes to the table go on
            // meanwhile; if the build fails, drop the index it names and start again (README "Storage").
            migrationBuilder.CreateIndex(
                name: "ix_members_avatar_key",
                table: "members",
                column: "avatar_key",
                filter: "\"avatar_key\" IS NOT NULL")
                .Annotation("Npgsql:CreatedConcurrently", true);

            migrationBuilder.AddColumn<long>(
                name: "pending_since",
                table: "avatar_files",
                type: "bigint",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_avatar_files_pending_since",
                table: "avatar_files",
                column: "pending_since",
                filter: "\"pending_since\" IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_members_avatar_key",
                table: "members");

            migrationBuilder.DropIndex(
                name: "ix_avatar_files_pending_since",
                table: "avatar_files");

            migrationBuilder.DropColumn(
                name: "pending_since",
                table: "avatar_files");
        }
    }
}
