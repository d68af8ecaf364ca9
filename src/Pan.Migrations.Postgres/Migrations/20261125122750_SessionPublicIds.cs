using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
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
                type: "bytea",
                nullable: false,
                defaultValue: Array.Empty<byte>());

            // Why: sessions open at the migration get random public ids of their own. gen_random_uuid() is core
            // PostgreSQL (13 and later, no extension); its 16 bytes carry 122 random bits (six are the UUID's version
            // and variant), short of the 128 a new session draws but as far from guessable, and only for sessions that
            // end within Pan:Tokens:AuthTokenDays (or a social-login family's refresh days) of the migration. The
            // empty default only fills the column as it is added (no table rewrite); every insert writes its own id,
            // so it is dropped.
            migrationBuilder.Sql("UPDATE auth_sessions SET public_id = decode(replace(gen_random_uuid()::text, '-', ''), 'hex');");
            migrationBuilder.Sql("ALTER TABLE auth_sessions ALTER COLUMN public_id DROP DEFAULT;");
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
