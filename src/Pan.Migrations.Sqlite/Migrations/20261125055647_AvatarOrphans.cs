using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class AvatarOrphans : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "pending_since",
                table: "avatar_files",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_members_avatar_key",
                table: "members",
                column: "avatar_key",
                filter: "\"avatar_key\" IS NOT NULL");

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
