using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class SessionPublicIds : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<byte[]>(
                name: "public_id",
                table: "auth_sessions",
                type: "BLOB",
                nullable: false,
                defaultValue: Array.Empty<byte>());

            // Why: sessions open at the migration get 128 random bits of their own. The empty default stays in SQLite's
            // table definition (dropping it would rebuild the table), but every insert writes its own id.
            migrationBuilder.Sql("UPDATE auth_sessions SET public_id = randomblob(16);");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "public_id",
                table: "auth_sessions");
        }
    }
}
